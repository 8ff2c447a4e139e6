package api

// OsmVector is one real request from ../shared/clients/vectors.md, byte for
// byte. It is exported (in test builds only) so the end-to-end tests in
// package api_test and the fuzz seeds here share one copy.
type OsmVector struct {
	Name, Method, Target, ContentType, Body string
}

// OsmVectors are sections A, B, C and E of vectors.md.
var OsmVectors = []OsmVector{
	{Name: "A1", Method: "GET", Target: "/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0"},
	{Name: "A2", Method: "GET", Target: "/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&altitude=224.0&speed=0.0"},
	{Name: "A3", Method: "GET", Target: "/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0&speed=0.0"},
	{Name: "A5", Method: "GET", Target: "/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0&altitude=0&hdop=0.0"},
	{Name: "A6", Method: "GET", Target: "/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456"},
	{Name: "A8", Method: "GET", Target: "/?id=123456&timestamp=1377177267&location=60.0,30.0"},
	{Name: "A10", Method: "GET", Target: "/?timestamp=1377177267&lat=60.0&lon=30.0"},
	{Name: "B1", Method: "POST", Target: "/", ContentType: "application/json",
		Body: `{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},"activity":{"type":"still"},"extras":{},"_":"&id=48241179&lat=37.4219983&lon=-122.084&timestamp=2025-06-15T13:45:12.862Z&"},"device_id":"48241179"}`},
	{Name: "B3", Method: "POST", Target: "/", ContentType: "application/json",
		Body: `{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75","timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},"activity":{"type":"still","confidence":100},"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}`},
	{Name: "C1", Method: "POST", Target: "/", ContentType: "application/x-www-form-urlencoded; charset=UTF-8",
		Body: "id=48241179&lat=52.5200066&lon=13.404954&timestamp=1756713600&accuracy=4.7&altitude=34.0&speed=1.94&bearing=90.0&batt=80&charge=false"},
	{Name: "E1", Method: "GET", Target: "/test?lat=12.193&lon=19.456&sat=0&desc=&alt=0.0&acc=0.0&dir=0.0&prov=MOCK&spd_kph=0.0&spd=0.0&timestamp=1457205869&timeoffset=2016-03-05T21:24:29.949%2B02:00&time=2016-03-05T19:24:29.949Z&starttimestamp=1495884681&date=2016-03-05&batt=0.0&ischarging=false&aid=&ser=&act=&filename=20170527abc&profile=Default+Profile&hdop=&vdop=19&pdop=&dist=0&"},
	{Name: "E3", Method: "POST", Target: "/log",
		Body: "lat=12.193&lon=19.456&sat=0&desc=&alt=0.0&acc=0.0&dir=0.0&prov=MOCK&spd_kph=0.0&spd=0.0&timestamp=1457205869&timeoffset=2016-03-05T21:24:29.949%2B02:00&time=2016-03-05T19:24:29.949Z&starttimestamp=1495884681&date=2016-03-05&batt=0.0&ischarging=false&aid=&ser=&act=&filename=20170527abc&profile=Default+Profile&hdop=&vdop=19&pdop=&dist=0&"},
}
