package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/store"
)

func defaultConfig() []byte { return assets.DefaultConfig }

// cmdKudos: `kudos verify` proves balance == sum(ledger) for every user,
// the escrow, the ledger rollups and the parties' books.
func cmdKudos(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: hordebot kudos verify [--data DIR]")
	}
	st, _, err := openStore(ctx, "kudos verify", args[1:], stderr, getenv, false)
	if err != nil {
		return err
	}
	defer st.Close()
	return verifyKudos(ctx, st, stdout)
}

// verifyKudos runs the checks of `kudos verify` on st: every balance equals
// the sum of its ledger entries, every released escrow its holds, every
// ledger rollup its entries. It prints each difference and an ok line per
// check to stdout, and returns an error saying how many differ.
func verifyKudos(ctx context.Context, st *store.Store, stdout io.Writer) error {
	bad, err := st.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify ledger: %w", err)
	}
	badEscrow, err := st.VerifyEscrow(ctx)
	if err != nil {
		return fmt.Errorf("verify escrow: %w", err)
	}
	for _, m := range badEscrow {
		fmt.Fprintf(stdout, "user %d: escrow releases in the ledger %d, released holds %d\n", m.UserID, m.Balance, m.Sum)
	}
	bad = append(bad, badEscrow...)
	for _, m := range bad {
		fmt.Fprintf(stdout, "user %d: balance %d, ledger sum %d\n", m.UserID, m.Balance, m.Sum)
	}
	badRollups, err := st.VerifyRollups(ctx)
	if err != nil {
		return fmt.Errorf("verify ledger rollups: %w", err)
	}
	for _, m := range badRollups {
		where := "all time"
		if m.Table == "ledger_days" {
			where = m.Day.Format(time.DateOnly)
		}
		fmt.Fprintf(stdout, "user %d: %s %s in %s: rollup %s, ledger %s\n", m.UserID, m.Kind, where, m.Table, sums(m.Stored), sums(m.Ledger))
	}
	badParties, err := st.VerifyParties(ctx)
	if err != nil {
		return fmt.Errorf("verify parties: %w", err)
	}
	for _, m := range badParties {
		fmt.Fprintf(stdout, "party %d: its ledger entries sum to %d, want %d (minus what it holds); its awards sum to %d, its spent is %d\n",
			m.PartyID, m.Ledger, m.Want, m.Awards, m.Spent)
	}
	switch {
	case len(bad) > 0 && len(badRollups) > 0:
		return fmt.Errorf("%d balances and %d ledger rollups differ from the ledger", len(bad), len(badRollups))
	case len(bad) > 0:
		return fmt.Errorf("%d balances differ from the ledger", len(bad))
	case len(badRollups) > 0:
		return fmt.Errorf("%d ledger rollups (what the leaderboards and web pages read) differ from the ledger", len(badRollups))
	case len(badParties) > 0:
		return fmt.Errorf("%d parties' books differ from the ledger", len(badParties))
	}
	fmt.Fprintln(stdout, "ok: every balance equals the sum of its ledger entries")
	fmt.Fprintln(stdout, "ok: every ledger rollup (per day and all time) equals the sums of its ledger entries")
	fmt.Fprintln(stdout, "ok: every party's ledger entries net to minus what it holds, and its awards to what it spent")
	return nil
}

// sums prints a rollup row's sums.
func sums(s store.LedgerSums) string {
	return fmt.Sprintf("%d entries summing %d (%d positive summing %d)", s.Entries, s.Net, s.Gains, s.Earned)
}

// cmdMigrate applies the migrations (Open does) and exits.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	st, cfg, err := openStore(ctx, "migrate", args, stderr, getenv, true)
	if err != nil {
		return err
	}
	u, _ := store.ParseDatabaseURL(cfg.DatabaseURL()) // it opened
	fmt.Fprintln(stdout, "migrations applied in", u)
	return st.Close()
}

// openStore parses the common flags of the subcommand name, loads the
// configuration and opens its store; the caller closes it.
// openStore parses the common flags and opens the store; unless create, a
// data dir without a database is refused (requireDatabase).
func openStore(ctx context.Context, name string, args []string, stderr io.Writer, getenv func(string) string, create bool) (*store.Store, Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, Config{}, err
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		return nil, Config{}, err
	}
	if !create {
		if err := requireDatabase(cfg); err != nil {
			return nil, Config{}, err
		}
	}
	st, err := cfg.openStore(ctx, nil, newLogger(stderr, cfg))
	if err != nil {
		return nil, Config{}, err
	}
	return st, cfg, nil
}

// requireDatabase refuses a SQLite data dir that holds no database: only
// `migrate`, `api` and `run` create one, so that an admin command on a
// mistyped --data does not report "ok" about a new, empty horde. (A
// PostgreSQL URL names a server database that exists, or does not connect.)
func requireDatabase(cfg Config) error {
	u, err := store.ParseDatabaseURL(cfg.DatabaseURL())
	if err != nil {
		return err
	}
	if u.Engine != store.EngineSQLite {
		return nil
	}
	dir := u.Dir
	ok, err := store.HasDatabase(dir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s holds no hordebot database (%s): check --data or HORDEBOT_DATA, or create one with `hordebot migrate --data %s`", dir, store.DBFile, dir)
	}
	return nil
}
