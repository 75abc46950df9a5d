package main

import (
	"context"
	"flag"
	"io"
)

// cmdAPI runs a private horde: scheduler and AI Horde v2 API, no Discord.
func cmdAPI(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	listen := fs.String("listen", "", "address to serve the API on (overrides api.listen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.API.Listen = *listen
		if cfg.API.PublicURL == "" { // neither the file nor HORDEBOT_PUBLIC_URL says
			cfg.API.PublicURL = "http://" + *listen
		}
	}
	log := newLogger(stderr, cfg)
	app, err := OpenApp(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	app.noKudosSchedules = !cfg.API.runsKudosSchedules()
	return app.Serve(ctx)
}
