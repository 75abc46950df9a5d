package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hordebot/hordebot/horde"
)

const userUsage = `usage:
  hordebot user add NAME [--data DIR] [--config FILE]      create an API user; prints its key alone on a line
  hordebot user set NAME [--moderator[=false]] [--trusted[=false]] [--flagged[=false]]
                         [--kudos N] [--concurrency N] [--data DIR]   change a user (NAME or name#id)
  hordebot user list [--sort kudos|age] [--data DIR]        list the users`

// cmdUser manages API users: `user add NAME` prints the new key alone on a
// line; `user set` is the bootstrap of a private horde's moderators, trust
// and kudos; `user list` shows who is who.
func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(ctx, args[1:], stdout, stderr, getenv)
	case "set":
		return cmdUserSet(ctx, args[1:], stdout, stderr, getenv)
	case "list":
		return cmdUserList(ctx, args[1:], stdout, stderr, getenv)
	}
	return fmt.Errorf("unknown user command %q\n%s", args[0], userUsage)
}

// parseNamed parses fs over args, which hold one NAME before, between or
// after the flags.
func parseNamed(fs *flag.FlagSet, args []string, what string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if name == "" && fs.NArg() > 0 {
		// The name came after some flags: the flags after it are parsed too.
		name = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("one NAME only, not also %q", fs.Arg(0))
	}
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("usage: hordebot user %s NAME", what)
	}
	return strings.TrimSpace(name), nil
}

// openAdminApp loads the configuration and opens the app over an existing
// database (requireDatabase).
func openAdminApp(ctx context.Context, cf commonFlags, stderr io.Writer, getenv func(string) string) (*App, error) {
	cfg, err := cf.load(getenv)
	if err != nil {
		return nil, err
	}
	if err := requireDatabase(cfg); err != nil {
		return nil, err
	}
	return OpenApp(ctx, cfg, newLogger(stderr, cfg), nil)
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	name, err := parseNamed(fs, args, "add")
	if err != nil {
		return err
	}
	app, err := openAdminApp(ctx, cf, stderr, getenv)
	if err != nil {
		return err
	}
	defer app.Close()
	same, err := app.Store.UsersNamed(ctx, name)
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

// optionalBool is a boolean flag that remembers whether it was given.
type optionalBool struct{ v *bool }

func (b *optionalBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, not %q", s)
	}
	b.v = &v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// optionalInt is an integer flag that remembers whether it was given.
type optionalInt struct{ v *int64 }

func (n *optionalInt) String() string {
	if n == nil || n.v == nil {
		return ""
	}
	return strconv.FormatInt(*n.v, 10)
}

func (n *optionalInt) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number, not %q", s)
	}
	n.v = &v
	return nil
}

func cmdUserSet(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("user set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	var moderator, trusted, flagged optionalBool
	var kudosDelta, concurrency optionalInt
	fs.Var(&moderator, "moderator", "make the user a moderator (--moderator=false: no longer)")
	fs.Var(&trusted, "trusted", "trust the user, releasing their escrow (--trusted=false: distrust)")
	fs.Var(&flagged, "flagged", "flag the user (--flagged=false: unflag)")
	fs.Var(&kudosDelta, "kudos", "add N kudos (negative takes), a ledger entry of kind admin")
	fs.Var(&concurrency, "concurrency", "the most items the user may have queued at once (0..500)")
	name, err := parseNamed(fs, args, "set")
	if err != nil {
		return err
	}
	change := horde.UserChange{Moderator: moderator.v, Trusted: trusted.v, Flagged: flagged.v, Kudos: kudosDelta.v}
	if concurrency.v != nil {
		n := int(max(min(*concurrency.v, horde.MaxUserConcurrency+1), -1))
		change.Concurrency = &n
	}
	if change == (horde.UserChange{}) {
		return fmt.Errorf("nothing to change: give --moderator, --trusted, --flagged, --kudos or --concurrency\n%s", userUsage)
	}
	app, err := openAdminApp(ctx, cf, stderr, getenv)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := findUser(ctx, app, name)
	if err != nil {
		return err
	}
	res, err := app.Horde.ModifyUser(ctx, horde.Operator, u.ID, change, "")
	if err != nil {
		return fmt.Errorf("set user %s: %s", u.Username(), horde.MessageOf(err))
	}
	var done []string
	if res.Moderator != nil {
		done = append(done, fmt.Sprintf("moderator %t", *res.Moderator))
	}
	if res.Trusted != nil {
		s := fmt.Sprintf("trusted %t", *res.Trusted)
		if res.KudosReleased > 0 {
			s += fmt.Sprintf(" (%d kudos released from escrow)", res.KudosReleased)
		}
		done = append(done, s)
	}
	if res.Flagged != nil {
		done = append(done, fmt.Sprintf("flagged %t", *res.Flagged))
	}
	if res.Concurrency != nil {
		done = append(done, fmt.Sprintf("concurrency %d", *res.Concurrency))
	}
	if res.NewKudos != nil {
		done = append(done, fmt.Sprintf("kudos %d", *res.NewKudos))
	}
	fmt.Fprintf(stdout, "%s: %s\n", res.User.Username(), strings.Join(done, ", "))
	return nil
}

// findUser resolves NAME: "name#id" names one user by id (its name must
// match), a plain name must be one user's only.
func findUser(ctx context.Context, app *App, name string) (horde.User, error) {
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		id, err := strconv.ParseInt(name[i+1:], 10, 64)
		if err != nil {
			return horde.User{}, fmt.Errorf("%q: the part after # must be the user's number", name)
		}
		u, err := app.Store.User(ctx, id)
		if err != nil || u.Name != name[:i] {
			return horde.User{}, fmt.Errorf("no user is %s (see `hordebot user list`)", name)
		}
		return u, nil
	}
	us, err := app.Store.UsersNamed(ctx, name)
	if err != nil {
		return horde.User{}, err
	}
	switch len(us) {
	case 0:
		return horde.User{}, fmt.Errorf("no user is named %q (see `hordebot user list`; create one with `hordebot user add %s`)", name, name)
	case 1:
		return us[0], nil
	}
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.Username()
	}
	return horde.User{}, fmt.Errorf("%d users are named %q (%s): say which as name#id", len(us), name, strings.Join(names, ", "))
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	sortBy := fs.String("sort", "age", "kudos (most first) or age (oldest first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	order := horde.UserSort(*sortBy)
	if order != horde.SortByKudos && order != horde.SortByAge {
		return fmt.Errorf("--sort must be kudos or age, not %q", *sortBy)
	}
	app, err := openAdminApp(ctx, cf, stderr, getenv)
	if err != nil {
		return err
	}
	defer app.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tKUDOS\tMODERATOR\tTRUSTED\tFLAGGED\tCONCURRENCY\tWORKERS\tDISCORD")
	for page := 1; ; page++ {
		infos, err := app.Horde.ListUsers(ctx, order, page)
		if err != nil {
			return err
		}
		for _, in := range infos {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", in.User.Username(), in.Kudos, yesNo(in.User.Moderator),
				yesNo(in.User.Trusted), yesNo(in.User.Flagged), in.Concurrency, len(in.WorkerIDs), in.User.DiscordID)
		}
		if len(infos) < horde.UsersPerPage {
			break
		}
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
