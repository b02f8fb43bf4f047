package sqlrun

import (
	"context"
	"database/sql"
	"fmt"
)

// RunScript runs a SqlActivity script: its statements in order inside one
// transaction, committed only if all succeed. scriptArgument values are bound
// as parameters: each ? takes the next argument (counting across the whole
// script) and $n takes argument n. With no arguments the statements run as
// written, so PostgreSQL's ? operators are untouched.
//
// MySQL and MariaDB commit implicitly around DDL (CREATE, DROP, ALTER ...),
// so a failure after DDL there cannot undo the DDL; that is the server's rule.
func RunScript(ctx context.Context, c *Conn, script string, args []string) error {
	stmts := SplitStatements(script, c.Dialect)
	if len(stmts) == 0 {
		return c.fail(fmt.Errorf("database %s: script has no statements", c.ID))
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return c.fail(fmt.Errorf("database %s: begin transaction: %w", c.ID, err))
	}
	next := 0
	for i, st := range stmts {
		text, params := st.Text, []any(nil)
		if len(args) > 0 {
			text, params, err = bindPlaceholders(st.Text, c.Dialect, args, &next)
			if err != nil {
				tx.Rollback()
				return c.fail(stmtErr(i, len(stmts), st, err))
			}
		}
		if err := execStmt(ctx, tx, text, params); err != nil {
			tx.Rollback()
			return c.fail(stmtErr(i, len(stmts), st, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return c.fail(fmt.Errorf("database %s: commit: %w", c.ID, err))
	}
	return nil
}

func execStmt(ctx context.Context, tx *sql.Tx, text string, params []any) error {
	_, err := tx.ExecContext(ctx, text, params...)
	return err
}

func stmtErr(i, n int, st Statement, err error) error {
	return fmt.Errorf("statement %d of %d (line %d: %s): %w", i+1, n, st.Line, firstLine(st.Text), err)
}
