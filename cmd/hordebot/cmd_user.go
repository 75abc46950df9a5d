package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// cmdUser manages API users: `user add NAME` prints the new key alone on a line.
func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: hordebot user add NAME [--data DIR] [--config FILE]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	// Accept the name before or after the flags.
	rest := args[1:]
	var name string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("usage: hordebot user add NAME")
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		return err
	}
	if err := requireDatabase(cfg.Data); err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, newLogger(stderr, cfg), nil)
	if err != nil {
		return err
	}
	defer app.Close()
	same, err := app.Store.UsersNamed(ctx, strings.TrimSpace(name))
	if err != nil {
		return err
	}
	if len(same) > 0 {
		return fmt.Errorf("a user named %q exists already (%s): choose another name", name, same[0].Username())
	}
	u, key, err := app.Horde.CreateUser(ctx, name)
	if err != nil {
		return fmt.Errorf("create user %q: %w", name, err)
	}
	fmt.Fprintf(stderr, "created user %s; the key below is shown once\n", u.Username())
	fmt.Fprintln(stdout, key)
	return nil
}
