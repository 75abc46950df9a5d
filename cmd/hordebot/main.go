// Command hordebot is the Discord bot, the embedded AI Horde-compatible
// scheduler and the kudos engine, in one binary.
//
//	hordebot run     [--config FILE] [--data DIR]          the Discord bot + API (needs DISCORD_TOKEN)
//	hordebot api     [--config FILE] [--data DIR] [--listen ADDR]   a private horde: scheduler + API, no Discord
//	hordebot demo    [--out DIR]                            fake Discord + bot + worker + scripted scenario
//	hordebot user add NAME [--data DIR]                     create an API user; prints its key alone on a line
//	hordebot user set NAME [--moderator] [--trusted] [--kudos N] [--concurrency N]   change a user (NAME or name#id)
//	hordebot user list [--sort kudos|age]                   list the users
//	hordebot kudos verify [--data DIR]                      check balance == sum(ledger) for every user
//	hordebot migrate [--data DIR]                           apply the database migrations and exit
//	hordebot migrate-data --from sqlite:DIR --to postgres://...   copy every row and image into an empty database
//	hordebot config                                         print the default configuration
//	hordebot version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hordebot/hordebot/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.Getenv)
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "hordebot:", err)
		os.Exit(1)
	}
}

const usage = `usage: hordebot <command> [flags]

commands:
  run            run the Discord bot and the API (DISCORD_TOKEN from the environment)
  api            run a private horde: the scheduler and the AI Horde v2 API, without Discord
  demo           run the scripted demo against a fake Discord; output in --out
  user add NAME  create an API user and print its key
  user set NAME  change a user: --moderator, --trusted, --flagged, --kudos N, --concurrency N
  user list      list the users
  kudos verify   check that every balance equals the sum of its ledger rows
  migrate        apply the database migrations
  migrate-data   copy a horde into an empty database: --from sqlite:DIR --to postgres://...
  config         print the default configuration
  version        print the version
`

// run dispatches a subcommand. It is main without os.Exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stderr, getenv)
	case "api":
		return cmdAPI(ctx, rest, stderr, getenv)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr, getenv)
	case "user":
		return cmdUser(ctx, rest, stdout, stderr, getenv)
	case "kudos":
		return cmdKudos(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr, getenv)
	case "migrate-data":
		return cmdMigrateData(ctx, rest, stdout, stderr, getenv)
	case "config":
		_, err := stdout.Write(defaultConfig())
		return err
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "hordebot", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// commonFlags are the flags every data-using subcommand takes.
type commonFlags struct {
	config   string
	data     string
	database string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration file (YAML); defaults are built in")
	fs.StringVar(&c.data, "data", "", "data directory (overrides the config's data; the database there is sqlite:DIR)")
	fs.StringVar(&c.database, "database", "", "database URL: sqlite:DIR or postgres://... (overrides database.url and HORDEBOT_DATABASE_URL)")
}

// load reads the configuration with the flags applied.
func (c *commonFlags) load(getenv func(string) string) (Config, error) {
	cfg, err := LoadConfig(c.config, getenv)
	if err != nil {
		return cfg, err
	}
	if c.data != "" {
		cfg.Data = c.data
		cfg.Database.URL = "sqlite:" + c.data
	}
	if c.database != "" {
		if _, err := store.ParseDatabaseURL(c.database); err != nil {
			return cfg, fmt.Errorf("--database: %w", err)
		}
		cfg.Database.URL = c.database
	}
	return cfg, nil
}

func newLogger(w io.Writer, cfg Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
}
