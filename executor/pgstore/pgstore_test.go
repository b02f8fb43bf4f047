package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dpl-dev/dpl/executor/pgstore"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/runstore/storetest"
)

// testDSN is the PostgreSQL of .ci/databases.sh.
func testDSN(t *testing.T) string {
	dsn := os.Getenv("DPL_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SKIPPED: DPL_TEST_PG_DSN is not set; run .ci/databases.sh (or source /tmp/dpl-databases.env) to test the PostgreSQL store")
	}
	return dsn
}

// freshSchema opens a store in a new schema, dropped when the test ends.
func freshSchema(t *testing.T, dsn string) (*pgstore.Store, string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "dpl_test_" + hex.EncodeToString(b)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return s, schema
}

// TestPostgresConformance runs the runstore.Backend suite on PostgreSQL.
func TestPostgresConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) runstore.Backend {
		s, _ := freshSchema(t, dsn)
		return s
	})
}

// TestMigrations: opening applies the versioned migrations once; a second
// process opening the same schema finds them applied; a schema from a
// newer dpl is refused.
func TestMigrations(t *testing.T) {
	dsn := testDSN(t)
	s, schema := freshSchema(t, dsn)
	ctx := context.Background()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != 3 {
		t.Fatalf("schema version %d, %v; want 3", v, err)
	}
	if err := s.PutPipeline(&runstore.Pipeline{ID: "df-M"}); err != nil {
		t.Fatal(err)
	}
	again, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if p, err := again.Pipeline("df-M"); err != nil || p.ID != "df-M" {
		t.Fatalf("a second store on the schema reads %v, %v", p, err)
	}
	again.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO "+schema+".schema_migrations (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("a schema at version 99 was accepted: %v", err)
	}
	s.Close()
}

func TestOpenErrorsHidePassword(t *testing.T) {
	_, err := pgstore.Open(context.Background(), "postgres://dpl:s3cretpw@127.0.0.1:1/db?connect_timeout=1", pgstore.Options{})
	if err == nil {
		t.Fatal("opened a store on a closed port")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("error shows the password: %v", err)
	}
	if _, err := pgstore.Open(context.Background(), "postgres://x@127.0.0.1/db", pgstore.Options{Schema: "Bad-Name"}); err == nil {
		t.Fatal("a schema name with capitals and a dash was accepted")
	}
}
