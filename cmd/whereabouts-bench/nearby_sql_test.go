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

// TestNearbySQLMirrorsStore keeps the pgbench ceiling honest: the nearby
// script must run the statement store.Nearby sends (no filters, the index
// order), with $1, $2, $3 as :lon, :lat, :k (and a KNN point $4, $5, should
// there be one, as :lon, :lat: it equals the centre inside the city). It reads the constants from the store's source,
// so a change there fails here until nearbySQL is updated to match.
func TestNearbySQLMirrorsStore(t *testing.T) {
	src, err := os.ReadFile("../../store/query_nearby.go")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("store/query_nearby.go not found")
	} else if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "query_nearby.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]ast.Expr{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					consts[name.Name] = vs.Values[i]
				}
			}
		}
		return true
	})
	var eval func(ast.Expr) string
	eval = func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				t.Fatalf("literal %s: %v", e.Value, err)
			}
			return s
		case *ast.Ident:
			if v, ok := consts[e.Name]; ok {
				return eval(v)
			}
		case *ast.BinaryExpr:
			return eval(e.X) + eval(e.Y)
		case *ast.ParenExpr:
			return eval(e.X)
		}
		t.Fatalf("cannot evaluate %T in store's nearbyTemplate", e)
		return ""
	}
	tmpl, ok := consts["nearbyTemplate"]
	if !ok {
		t.Fatal("store/query_nearby.go has no nearbyTemplate constant")
	}
	// %[1]s is the filter; %[2]s, when the template has it, step one's
	// order, which is orderByIndex except on the rare retry.
	args := []any{"p.loc IS NOT NULL"}
	if order, ok := consts["orderByIndex"]; ok {
		args = append(args, eval(order))
	}
	want := fmt.Sprintf(eval(tmpl), args...)
	want = strings.NewReplacer("$1", ":lon", "$2", ":lat", "$3", ":k", "$4", ":lon", "$5", ":lat").Replace(want)
	norm := func(s string) string {
		s = strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), ";")), " ")
		return strings.NewReplacer("( ", "(", " )", ")").Replace(s)
	}
	if norm(want) != norm(nearbySQL) {
		t.Errorf("the pgbench nearby SQL no longer mirrors store/query_nearby.go; update nearbySQL to:\n%s\n\nit is:\n%s", norm(want), norm(nearbySQL))
	}
}
