package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// auditQueueSize bounds the audit posts waiting to be sent; past it posts
// are dropped (and logged) rather than letting a flood of refused prompts
// hold memory or slow the horde.
const auditQueueSize = 256

// auditPostTimeout bounds one audit post, retries included.
const auditPostTimeout = 30 * time.Second

// auditor posts to the moderators' audit channel from one goroutine, in
// order, so that the horde's callbacks never wait on Discord.
type auditor struct {
	channelID string
	retry     interact.Retrier
	log       *slog.Logger

	mu      sync.Mutex
	queue   chan string
	session *discordgo.Session
	done    chan struct{}
}

func newAuditor(channelID string, retry interact.Retrier, log *slog.Logger) *auditor {
	return &auditor{channelID: channelID, retry: retry, log: log}
}

// start begins posting on s until stop.
func (a *auditor) start(s *discordgo.Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.queue != nil || a.channelID == "" {
		return
	}
	a.session, a.queue, a.done = s, make(chan string, auditQueueSize), make(chan struct{})
	go a.run(a.queue, a.done, s)
}

// stop posts what is queued, then returns; posts after stop are dropped.
func (a *auditor) stop() {
	a.mu.Lock()
	q, done := a.queue, a.done
	a.queue, a.session = nil, nil
	a.mu.Unlock()
	if q == nil {
		return
	}
	close(q)
	<-done
}

// post queues text for the audit channel; it never blocks.
func (a *auditor) post(text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.channelID == "":
		return
	case a.queue == nil:
		a.log.Warn("audit post dropped: the bot is not running", "text", clipText(text, 200))
		return
	}
	select {
	case a.queue <- text:
	default:
		a.log.Error("audit post dropped: the queue is full", "text", clipText(text, 200))
	}
}

func (a *auditor) run(q <-chan string, done chan<- struct{}, s *discordgo.Session) {
	defer close(done)
	for text := range q {
		ctx, cancel := context.WithTimeout(context.Background(), auditPostTimeout)
		msg := &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}
		err := a.retry.Do(ctx, "post to audit channel", func(opts ...discordgo.RequestOption) error {
			_, err := s.ChannelMessageSendComplex(a.channelID, msg, opts...)
			return err
		})
		cancel()
		if err != nil {
			a.log.Error("audit post failed", "channel", a.channelID, "err", err)
		}
	}
}

// OnModeration posts a horde moderation event to the audit channel; it is
// meant for horde.Config.OnModeration. It returns at once: the post is sent
// in the background. Prompts appear only here, in the moderators' channel.
func (b *Bot) OnModeration(_ context.Context, ev horde.ModerationEvent) {
	b.audit.post(FormatModerationEvent(b.channelPrinter(b.cfg.AuditChannelID), ev))
}

// FormatModerationEvent renders a moderation event as an audit line in p's
// language (its reason is the horde's, in English).
func FormatModerationEvent(p *locale.Printer, ev horde.ModerationEvent) string {
	var sb strings.Builder
	who := userRef(ev.User)
	switch ev.Kind {
	case horde.EventFlagged:
		if ev.User.Anonymous() {
			sb.WriteString("🚩 " + p.T("audit.flagged_anonymous", locale.Args{"Count": ev.Count, "Strike": string(ev.Strike), "Threshold": ev.Threshold}))
		} else {
			sb.WriteString("🚩 " + p.T("audit.flagged", locale.Args{"User": who, "Reason": AuditReason(p, ev.Reason)}))
		}
	case horde.EventReported:
		formatReport(p, &sb, ev, who)
	case horde.EventRefused:
		sb.WriteString("⛔ " + p.T("audit.refused", locale.Args{"User": who, "Reason": AuditReason(p, ev.Reason)}))
		if ev.Count > 0 {
			sb.WriteString(" " + p.T("audit.refused_count", locale.Args{"Count": ev.Count, "Threshold": ev.Threshold}))
		}
	case horde.EventSuspicious:
		sb.WriteString("🕵️ " + p.T("audit.suspicious", locale.Args{"Worker": clipText(ev.WorkerName, 100), "User": who, "Reason": AuditReason(p, ev.Reason)}))
	case horde.EventTrusted:
		sb.WriteString("🤝 " + p.T("audit.trusted", locale.Args{"User": who, "Reason": AuditReason(p, ev.Reason), "Released": ev.Released}))
	default:
		sb.WriteString("ℹ️ " + p.T("audit.other", locale.Args{"Kind": string(ev.Kind), "Reason": AuditReason(p, ev.Reason), "User": who}))
	}
	if ev.JobID != "" {
		sb.WriteString(" " + p.T("audit.job", locale.Args{"ID": ev.JobID}))
	}
	if ev.RequestID != "" {
		sb.WriteString(" " + p.T("audit.request", locale.Args{"ID": ev.RequestID}))
	}
	if ev.Prompt != "" {
		sb.WriteString("\n" + p.T("audit.prompt", nil) + " ")
		sb.WriteString(codeSpan(clipText(ev.Prompt, 1200)))
	}
	return clipText(sb.String(), 1990)
}

// formatReport renders a worker's report of a result: who reported whom,
// whether it counts, and the tally a flag is measured against.
func formatReport(p *locale.Printer, sb *strings.Builder, ev horde.ModerationEvent, who string) {
	reporter := p.T("audit.report.deleted_owner", nil)
	trust := p.T("audit.report.untrusted", nil)
	if ev.Reporter.ID >= 0 {
		reporter = userRef(ev.Reporter)
	}
	if ev.Counted {
		trust = p.T("audit.report.trusted", nil)
	}
	sb.WriteString("⚠️ " + p.T("audit.report", locale.Args{"Worker": clipText(ev.WorkerName, 100), "Reporter": reporter,
		"Trust": trust, "Strike": string(ev.Strike), "User": who}))
	if ev.Counted {
		sb.WriteString(" " + p.T("audit.report.counted", locale.Args{"Reports": ev.Tally.TrustedReports, "Owners": ev.Tally.TrustedOwners,
			"Threshold": ev.Threshold, "OwnersToFlag": ev.ReportersToFlag}))
	} else {
		sb.WriteString(" " + p.T("audit.report.recorded", nil))
	}
	sb.WriteString(" " + p.T("audit.report.record", locale.Args{"Reports": ev.Tally.Reports, "Owners": ev.Tally.Owners}))
}

// userRef names a user in an audit line: a mention for Discord members
// (the audit post allows no pings), else the horde's name#id.
func userRef(u horde.User) string {
	if u.DiscordID != "" {
		return fmt.Sprintf("<@%s> (%s)", u.DiscordID, u.Username())
	}
	return u.Username()
}

// codeSpan puts text in a code block that its own backticks cannot close.
func codeSpan(s string) string {
	s = strings.ReplaceAll(s, "`", "ˋ")
	return "```\n" + s + "\n```"
}

// clipText shortens s to at most n bytes on a rune boundary, marking the cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
