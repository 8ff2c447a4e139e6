DROP TABLE IF EXISTS stream_horizon;
