package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/bwmarrin/discordgo"
)

// cmdRun runs the real bot: Discord (DISCORD_TOKEN from the environment),
// the scheduler, the kudos engine and the API.
func cmdRun(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := getenv("DISCORD_TOKEN")
	if token == "" {
		return errors.New("DISCORD_TOKEN is not set: create a bot in the Discord developer portal and export its token")
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	app, err := OpenApp(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.Listen(); err != nil {
		return err
	}
	d, err := app.StartDiscord(ctx, func() (*discordgo.Session, error) { return discordgo.New("Bot " + token) })
	if err != nil {
		return err
	}
	log.Info("bot running; press Ctrl-C to stop")
	serveErr := app.Serve(ctx) // until SIGINT/SIGTERM; drains the API
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// No new commands; in-flight handlers finish, deliveries stay saved.
	return errors.Join(serveErr, d.Stop(stopCtx))
}
