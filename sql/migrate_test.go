package sql_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"whereabouts/pgcluster/pgtest"
	schema "whereabouts/sql"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMigrationsGoUpDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewEmptyDB(t)
	for _, step := range []struct {
		name string
		fn   func(context.Context, string) error
		want bool // person table exists afterwards
	}{
		{"up", schema.Up, true},
		{"down", schema.Down, false},
		{"up again", schema.Up, true},
	} {
		if err := step.fn(ctx, dsn); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := tableExists(t, dsn, "person"); got != step.want {
			t.Fatalf("after %s: person table exists = %v, want %v", step.name, got, step.want)
		}
	}
	v, dirty, err := schema.Version(ctx, dsn)
	if err != nil || dirty || v != 11 {
		t.Fatalf("version = %d dirty=%v err=%v, want 11 clean", v, dirty, err)
	}
}

func tableExists(t *testing.T, dsn, table string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}
