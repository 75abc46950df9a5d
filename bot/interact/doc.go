// Package interact is the Discord interaction plumbing that the bot's
// router and the commands share: an Interaction being answered (defer,
// reply, follow-up, private failure, autocomplete), the options a member
// typed, retries of Discord REST calls, Discord's "not found", and the names
// members go by. An Interaction speaks its caller's language (Printer, T;
// the catalogs are in the locale subpackage). It knows no command and no router: bot and commands both
// import it (bot -> commands -> interact, bot -> interact), it imports
// neither.
package interact
