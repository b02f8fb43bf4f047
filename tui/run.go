package tui

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
)

// Result says how the UI ended.
type Result struct {
	// Stopped is true when the operator asked to stop the run (q then y,
	// or ctrl+c); Options.Stop has been called.
	Stopped bool
	// Runs is true when the operator asked for the run list (`:runs`).
	Runs bool
}

// Run shows the UI full screen until the operator quits or ctx ends.
func Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Source == nil {
		return Result{}, errors.New("tui: no source")
	}
	m := New(opts)
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	if !opts.NoMouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	fm, err := tea.NewProgram(m, popts...).Run()
	res := Result{}
	if fm, ok := fm.(*Model); ok {
		res.Stopped, res.Runs = fm.Stopped(), fm.backToRuns
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		// Ended from outside (signal): the caller's context says why.
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("tui: %w", err)
	}
	if res.Stopped && opts.Stop != nil {
		opts.Stop()
	}
	return res, nil
}
