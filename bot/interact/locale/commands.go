package locale

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// chatInputNameRE is Discord's rule for the name of a slash command, option
// or subcommand, in every locale; such a name must be lowercase too.
var chatInputNameRE = regexp.MustCompile(`^[-_\p{L}\p{N}]{1,32}$`)

// ValidChatInputName reports whether name is a valid slash command, option
// or subcommand name for Discord: 1-32 letters, digits, - or _, lowercase.
func ValidChatInputName(name string) bool {
	return chatInputNameRE.MatchString(name) && strings.ToLower(name) == name
}

// CommandPath is where a command, subcommand, option or choice sits in the
// catalogs, and what it needs there.
type CommandPath struct {
	// Key is the path's key prefix: "command.kudos.give.option.amount"; a
	// choice's Key is the whole key ("...option.kind.choice.image").
	Key string
	// Name and Description say whether the path has a name to localise
	// (Key+".name") and a description (Key+".description"); a choice has
	// its Key only.
	Name, Description bool
	// ChatInput is whether a localised name follows the slash command rule
	// (ValidChatInputName); a context menu's may hold spaces and capitals.
	ChatInput bool
}

// NameKey and DescriptionKey are the catalog keys of the path's name and
// description ("" when it has none); a choice's name key is its Key.
func (p CommandPath) NameKey() string {
	switch {
	case !p.Name:
		return ""
	case strings.Contains(p.Key, ".choice."):
		return p.Key
	default:
		return p.Key + ".name"
	}
}

// DescriptionKey is the catalog key of the path's description, or "".
func (p CommandPath) DescriptionKey() string {
	if !p.Description {
		return ""
	}
	return p.Key + ".description"
}

// CommandPaths lists every path of the definitions that a translation
// must cover, in declaration order.
func CommandPaths(defs []*discordgo.ApplicationCommand) []CommandPath {
	var out []CommandPath
	for _, c := range defs {
		walkCommand(c, func(p CommandPath, _ localizable) { out = append(out, p) })
	}
	return out
}

// localizable is one thing that takes localisations: its declared name and
// description and where to put theirs.
type localizable struct {
	name, desc string
	names      func() map[discordgo.Locale]string // creates the map if needed
	descs      func() map[discordgo.Locale]string
	siblings   string // the key of the level it is unique in, for names
}

func walkCommand(c *discordgo.ApplicationCommand, visit func(CommandPath, localizable)) {
	chat := c.Type == 0 || c.Type == discordgo.ChatApplicationCommand
	key := "command." + c.Name
	visit(CommandPath{Key: key, Name: true, Description: chat, ChatInput: chat}, localizable{
		name: c.Name, desc: c.Description, siblings: "command",
		names: func() map[discordgo.Locale]string {
			if c.NameLocalizations == nil {
				m := map[discordgo.Locale]string{}
				c.NameLocalizations = &m
			}
			return *c.NameLocalizations
		},
		descs: func() map[discordgo.Locale]string {
			if c.DescriptionLocalizations == nil {
				m := map[discordgo.Locale]string{}
				c.DescriptionLocalizations = &m
			}
			return *c.DescriptionLocalizations
		},
	})
	if chat {
		walkOptions(key, c.Options, visit)
	}
}

func walkOptions(parent string, opts []*discordgo.ApplicationCommandOption, visit func(CommandPath, localizable)) {
	for _, o := range opts {
		if o == nil {
			continue
		}
		key := parent + ".option." + o.Name
		if o.Type == discordgo.ApplicationCommandOptionSubCommand || o.Type == discordgo.ApplicationCommandOptionSubCommandGroup {
			key = parent + "." + o.Name
		}
		visit(CommandPath{Key: key, Name: true, Description: true, ChatInput: true}, localizable{
			name: o.Name, desc: o.Description, siblings: parent,
			names: func() map[discordgo.Locale]string {
				if o.NameLocalizations == nil {
					o.NameLocalizations = map[discordgo.Locale]string{}
				}
				return o.NameLocalizations
			},
			descs: func() map[discordgo.Locale]string {
				if o.DescriptionLocalizations == nil {
					o.DescriptionLocalizations = map[discordgo.Locale]string{}
				}
				return o.DescriptionLocalizations
			},
		})
		for _, ch := range o.Choices {
			if ch == nil {
				continue
			}
			visit(CommandPath{Key: key + ".choice." + fmt.Sprint(ch.Value), Name: true}, localizable{
				name: ch.Name, siblings: key + ".choice",
				names: func() map[discordgo.Locale]string {
					if ch.NameLocalizations == nil {
						ch.NameLocalizations = map[discordgo.Locale]string{}
					}
					return ch.NameLocalizations
				},
			})
		}
		walkOptions(key, o.Options, visit)
	}
}

// LocalizeCommands fills the name and description localisations of the
// definitions, their options and choices, for every language but English
// (the declared text), from the catalogs' command keys. A wording Discord
// would refuse (a name breaking its rule, two names alike at one level, a
// description over 100 characters) is left out, so that the bulk overwrite
// still succeeds, and returned as a problem; so is a path a language does
// not cover.
func (c *Catalog) LocalizeCommands(defs []*discordgo.ApplicationCommand) (problems []string) {
	for _, lang := range Languages {
		if lang.Code == English {
			continue
		}
		taken := map[string]string{} // level + "/" + localised name -> the path that has it
		for _, d := range defs {
			walkCommand(d, func(p CommandPath, l localizable) {
				if k := p.NameKey(); k != "" {
					name, ok := c.own(lang.Code, k)
					switch {
					case !ok:
						problems = append(problems, fmt.Sprintf("%s: no %s", lang.Code, k))
					case !validName(p, name):
						problems = append(problems, fmt.Sprintf("%s: %s %q is not a name Discord accepts", lang.Code, k, name))
					case taken[l.siblings+"/"+name] != "":
						problems = append(problems, fmt.Sprintf("%s: %s %q is also the name of %s", lang.Code, k, name, taken[l.siblings+"/"+name]))
					default:
						taken[l.siblings+"/"+name] = p.Key
						for _, dl := range lang.Discord {
							l.names()[dl] = name
						}
					}
				}
				if k := p.DescriptionKey(); k != "" {
					desc, ok := c.own(lang.Code, k)
					switch n := utf8.RuneCountInString(desc); {
					case !ok:
						problems = append(problems, fmt.Sprintf("%s: no %s", lang.Code, k))
					case n < 1 || n > 100:
						problems = append(problems, fmt.Sprintf("%s: %s has %d characters; Discord takes 1-100", lang.Code, k, n))
					default:
						for _, dl := range lang.Discord {
							l.descs()[dl] = desc
						}
					}
				}
			})
		}
	}
	return problems
}

// own is a language's own plain wording of key (no fallback, no plurals).
func (c *Catalog) own(code, key string) (string, bool) {
	m, ok := c.messages[code][key]
	if !ok || m.Other == "" {
		return "", false
	}
	return strings.TrimSpace(m.Other), true
}

func validName(p CommandPath, name string) bool {
	switch {
	case strings.Contains(p.Key, ".choice."):
		n := utf8.RuneCountInString(name)
		return n >= 1 && n <= 100
	case p.ChatInput:
		return ValidChatInputName(name)
	default:
		n := utf8.RuneCountInString(name)
		return n >= 1 && n <= 32
	}
}
