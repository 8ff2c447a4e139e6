package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
)

// storeConsts reads the string constants of one file of the store's source,
// so that a pgbench script can be checked against the SQL the server sends.
// It returns the evaluated constants (string literals joined by +).
func storeConsts(t *testing.T, file string) map[string]string {
	t.Helper()
	src, err := os.ReadFile("../../store/" + file)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("store/%s not found", file)
	} else if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]ast.Expr{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					exprs[name.Name] = vs.Values[i]
				}
			}
		}
		return true
	})
	var eval func(ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.Ident:
			if v, ok := exprs[e.Name]; ok {
				return eval(v)
			}
		case *ast.BinaryExpr:
			x, okx := eval(e.X)
			y, oky := eval(e.Y)
			return x + y, okx && oky
		case *ast.ParenExpr:
			return eval(e.X)
		}
		return "", false
	}
	consts := map[string]string{}
	for name, e := range exprs {
		if s, ok := eval(e); ok {
			consts[name] = s
		}
	}
	return consts
}

// TestNearbySQLMirrorsStore keeps the pgbench ceiling honest: the nearby
// script must run the statement store.Nearby sends (no filters, the index
// order), with $1, $2, $3 as :lon, :lat, :k (and a KNN point $4, $5, should
// there be one, as :lon, :lat: it equals the centre inside the city). It
// reads the constants from the store's source, so a change there fails here
// until nearbySQL is updated to match.
func TestNearbySQLMirrorsStore(t *testing.T) {
	consts := storeConsts(t, "query_nearby.go")
	tmpl, ok := consts["nearbyTemplate"]
	if !ok {
		t.Fatal("store/query_nearby.go has no nearbyTemplate constant")
	}
	// %[1]s is the filter; %[2]s, when the template has it, step one's
	// order, which is orderByIndex except on the rare retry.
	args := []any{"p.loc IS NOT NULL"}
	if order, ok := consts["orderByIndex"]; ok {
		args = append(args, order)
	}
	want := fmt.Sprintf(tmpl, args...)
	want = strings.NewReplacer("$1", ":lon", "$2", ":lat", "$3", ":k", "$4", ":lon", "$5", ":lat").Replace(want)
	if normSQL(want) != normSQL(nearbySQL) {
		t.Errorf("the pgbench nearby SQL no longer mirrors store/query_nearby.go; update nearbySQL to:\n%s\n\nit is:\n%s", normSQL(want), normSQL(nearbySQL))
	}
}

// TestBatchSQLMirrorsStore does the same for the batch script: the round
// (lock, history insert, live move and last seen in one statement) of
// store/locations.go, with the arrays as
// pgbench variables.
func TestBatchSQLMirrorsStore(t *testing.T) {
	consts := storeConsts(t, "locations.go")
	params := strings.NewReplacer("$10", ":flags", "$1", ":ids", "$2", ":lons", "$3", ":lats", "$4", ":ats",
		"$5", ":nulls", "$6", ":nulls", "$7", ":nulls", "$8", ":nulls", "$9", ":nulls")
	stmt, ok := consts["moveRound"]
	if !ok {
		t.Fatal("store/locations.go has no moveRound constant")
	}
	if want := normSQL(params.Replace(stmt)); want != normSQL(batchRound) {
		t.Errorf("the pgbench batch script no longer mirrors store's moveRound; update batchRound to:\n%s\n\nit is:\n%s", want, normSQL(batchRound))
	}
}
