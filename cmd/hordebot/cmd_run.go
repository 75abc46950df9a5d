package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
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
	newSession, err := discordSessions(cfg, token, log)
	if err != nil {
		return err
	}
	d, err := app.StartDiscord(ctx, newSession)
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

// discordSessions makes the sessions of the bot's token: Discord's, or
// those of discord.rest_url (a REST proxy, or a fake Discord), whose
// GET /gateway/bot names the gateway they connect to.
func discordSessions(cfg Config, token string, log *slog.Logger) (func() (*discordgo.Session, error), error) {
	if cfg.Discord.RESTURL == "" {
		return func() (*discordgo.Session, error) { return discordgo.New("Bot " + token) }, nil
	}
	u, err := bot.ParseRESTURL(cfg.Discord.RESTURL)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if bot.RESTURLInClear(u) {
		log.Warn("discord.rest_url is plain http to another machine: the bot token travels unencrypted", "rest_url", u.String())
	}
	log.Info("discord REST calls go to discord.rest_url", "rest_url", u.String())
	client := bot.RESTClient(u)
	return func() (*discordgo.Session, error) {
		s, err := discordgo.New("Bot " + token)
		if err == nil {
			s.Client = client
		}
		return s, err
	}, nil
}
