package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// webShots are the pages the demo photographs, and their file names.
var webShots = []struct{ path, file string }{
	{"/", "status.png"},
	{"/leaderboard", "leaderboard.png"},
	{"/gallery", "gallery.png"},
	{"/u/ada", "ada.png"},
}

// webScreenshots writes screenshots of the web pages to out/web/ with a
// headless chromium (Debian's package), or says it skipped them.
func (d *demo) webScreenshots(ctx context.Context) error {
	if d.app.Web == nil {
		d.say("The web pages are off (web.enabled: false): no screenshots.")
		return nil
	}
	chromium := ""
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			chromium = p
			break
		}
	}
	base := "http://" + d.app.Addr()
	d.say("The web pages are on %s: status, leaderboard, gallery, members' and workers' pages, live request pages.", base)
	if chromium == "" {
		d.say("Screenshots of the web pages skipped: chromium is not installed (apt-get install -y chromium).")
		return nil
	}
	dir := filepath.Join(d.out, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "hordebot-demo-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	for _, s := range webShots {
		file := filepath.Join(dir, s.file)
		cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		out, err := exec.CommandContext(cctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
			"--hide-scrollbars", "--user-data-dir="+profile, "--window-size=1280,1500",
			"--screenshot="+file, base+s.path).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("screenshot of %s: %w: %s", s.path, err, out)
		}
		if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
			return fmt.Errorf("screenshot of %s: no file written: %s", s.path, out)
		}
		d.say("- %s → %s", s.path, file)
	}
	return nil
}
