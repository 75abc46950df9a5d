package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// chatInputName is Discord's rule for slash-command and option names.
var chatInputName = regexp.MustCompile(`^[-_\p{Ll}\p{Lo}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// Limits Discord puts on application commands.
const (
	maxCommands    = 100
	maxOptions     = 25
	maxChoices     = 25
	maxDescription = 100
)

// Commands returns the application commands currently registered for a guild
// ("" for global commands), as the last bulk overwrite left them.
func (s *Server) Commands(guildID string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneCommands(s.commands[guildID])
}

func cloneCommands(in []*discordgo.ApplicationCommand) []*discordgo.ApplicationCommand {
	out := []*discordgo.ApplicationCommand{}
	b, err := json.Marshal(in)
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

func (s *Server) commandScope(r *http.Request) (string, *apiError) {
	if r.PathValue("app") != s.cfg.appID {
		return "", &apiError{Status: http.StatusForbidden, Code: 50001, Message: "Missing Access"}
	}
	guild := r.PathValue("guild")
	if guild != "" {
		if _, ok := s.guilds[guild]; !ok {
			return "", errUnknownGuild
		}
	}
	return guild, nil
}

func (s *Server) getCommands(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, aerr := s.commandScope(r)
	if aerr != nil {
		return nil, aerr
	}
	return cloneCommands(s.commands[scope]), nil
}

// putCommands answers a bulk overwrite: the list replaces every command of
// the scope; a command keeps its id when its name and type stay the same.
func (s *Server) putCommands(r *http.Request, in *reqBody) (any, *apiError) {
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(orEmpty(in.json), &cmds); err != nil {
		return nil, errInvalidForm("body", "Expected an array of application commands: "+err.Error())
	}
	if len(cmds) > maxCommands {
		return nil, errInvalidForm("body", fmt.Sprintf("Must be %d or fewer in length.", maxCommands))
	}
	seen := map[string]bool{}
	for i, c := range cmds {
		if c == nil {
			return nil, errInvalidForm(fmt.Sprintf("%d", i), "Command is null")
		}
		if c.Type == 0 {
			c.Type = discordgo.ChatApplicationCommand
		}
		if msg := validateCommand(c); msg != "" {
			return nil, errInvalidForm(fmt.Sprintf("%d.%s", i, c.Name), msg)
		}
		key := fmt.Sprintf("%d/%s", c.Type, c.Name)
		if seen[key] {
			return nil, errInvalidForm(fmt.Sprintf("%d.name", i), "Application command names must be unique")
		}
		seen[key] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, aerr := s.commandScope(r)
	if aerr != nil {
		return nil, aerr
	}
	old := map[string]string{}
	for _, c := range s.commands[scope] {
		old[fmt.Sprintf("%d/%s", c.Type, c.Name)] = c.ID
	}
	for _, c := range cmds {
		c.ID = old[fmt.Sprintf("%d/%s", c.Type, c.Name)]
		if c.ID == "" {
			c.ID = s.ids.next(s.now())
		}
		c.ApplicationID = s.cfg.appID
		c.GuildID = scope
		c.Version = s.ids.next(s.now())
	}
	s.commands[scope] = cmds
	s.bumpLocked()
	return cloneCommands(cmds), nil
}

// validateCommand applies Discord's rules; it returns "" when c is valid.
func validateCommand(c *discordgo.ApplicationCommand) string {
	var names, descs map[discordgo.Locale]string
	if c.NameLocalizations != nil {
		names = *c.NameLocalizations
	}
	if c.DescriptionLocalizations != nil {
		descs = *c.DescriptionLocalizations
	}
	if c.Type != discordgo.ChatApplicationCommand {
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 32 {
			return "name must be 1-32 characters"
		}
		if c.Description != "" || len(c.Options) > 0 || len(descs) > 0 {
			return "user and message commands take no description or options"
		}
		return validateLocalizations(c.Name, names, nil, func(n string) bool { k := utf8.RuneCountInString(n); return k >= 1 && k <= 32 })
	}
	if !chatInputName.MatchString(c.Name) {
		return fmt.Sprintf("name %q must be 1-32 lowercase letters, digits, - or _", c.Name)
	}
	if n := utf8.RuneCountInString(c.Description); n < 1 || n > maxDescription {
		return "description must be 1-100 characters"
	}
	if msg := validateLocalizations(c.Name, names, descs, chatInputName.MatchString); msg != "" {
		return msg
	}
	return validateOptions(c.Options, 0)
}

// validateLocalizations applies Discord's rules to the name and description
// localisations of a command, option or choice: known locales, names that
// pass validName, descriptions of 1-100 characters.
func validateLocalizations(what string, names, descs map[discordgo.Locale]string, validName func(string) bool) string {
	for loc, n := range names {
		if _, ok := discordgo.Locales[loc]; !ok {
			return fmt.Sprintf("%s: unknown locale %q in name_localizations", what, loc)
		}
		if !validName(n) {
			return fmt.Sprintf("%s: localised name %q (%s) is invalid", what, n, loc)
		}
	}
	for loc, d := range descs {
		if _, ok := discordgo.Locales[loc]; !ok {
			return fmt.Sprintf("%s: unknown locale %q in description_localizations", what, loc)
		}
		if n := utf8.RuneCountInString(d); n < 1 || n > maxDescription {
			return fmt.Sprintf("%s: localised description (%s) must be 1-100 characters", what, loc)
		}
	}
	return ""
}

func validateOptions(opts []*discordgo.ApplicationCommandOption, depth int) string {
	if len(opts) > maxOptions {
		return "at most 25 options"
	}
	seen := map[string]bool{}
	optionalSeen := false
	for _, o := range opts {
		if o == nil {
			return "option is null"
		}
		if !chatInputName.MatchString(o.Name) {
			return fmt.Sprintf("option name %q must be 1-32 lowercase letters, digits, - or _", o.Name)
		}
		if seen[o.Name] {
			return fmt.Sprintf("option %q is duplicated", o.Name)
		}
		seen[o.Name] = true
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > maxDescription {
			return fmt.Sprintf("option %q: description must be 1-100 characters", o.Name)
		}
		if msg := validateLocalizations("option "+o.Name, o.NameLocalizations, o.DescriptionLocalizations, chatInputName.MatchString); msg != "" {
			return msg
		}
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand, discordgo.ApplicationCommandOptionSubCommandGroup:
			if depth >= 2 || (o.Type == discordgo.ApplicationCommandOptionSubCommandGroup && depth >= 1) {
				return fmt.Sprintf("option %q: subcommands nest too deep", o.Name)
			}
			if o.Type == discordgo.ApplicationCommandOptionSubCommandGroup {
				for _, sub := range o.Options {
					if sub != nil && sub.Type != discordgo.ApplicationCommandOptionSubCommand {
						return fmt.Sprintf("group %q may only hold subcommands", o.Name)
					}
				}
			}
			if msg := validateOptions(o.Options, depth+1); msg != "" {
				return msg
			}
			continue
		case discordgo.ApplicationCommandOptionString, discordgo.ApplicationCommandOptionInteger,
			discordgo.ApplicationCommandOptionBoolean, discordgo.ApplicationCommandOptionUser,
			discordgo.ApplicationCommandOptionChannel, discordgo.ApplicationCommandOptionRole,
			discordgo.ApplicationCommandOptionMentionable, discordgo.ApplicationCommandOptionNumber,
			discordgo.ApplicationCommandOptionAttachment:
		default:
			return fmt.Sprintf("option %q: unknown type %d", o.Name, o.Type)
		}
		if o.Required && optionalSeen {
			return fmt.Sprintf("option %q: required options must come before optional ones", o.Name)
		}
		if !o.Required {
			optionalSeen = true
		}
		if len(o.Choices) > maxChoices {
			return fmt.Sprintf("option %q: at most 25 choices", o.Name)
		}
		if len(o.Choices) > 0 && o.Autocomplete {
			return fmt.Sprintf("option %q: autocomplete and choices are exclusive", o.Name)
		}
		for _, ch := range o.Choices {
			if ch == nil || ch.Name == "" || utf8.RuneCountInString(ch.Name) > 100 {
				return fmt.Sprintf("option %q: choice names must be 1-100 characters", o.Name)
			}
			if msg := validateLocalizations("choice "+ch.Name, ch.NameLocalizations, nil, func(n string) bool {
				k := utf8.RuneCountInString(n)
				return k >= 1 && k <= 100
			}); msg != "" {
				return msg
			}
		}
	}
	return ""
}
