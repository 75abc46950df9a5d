package web

import (
	"context"
	"fmt"
	"net/http"
)

// GalleryLimit is how many shares the gallery shows.
const GalleryLimit = 24

type galleryData struct {
	Order string // "new" or "top"
	NSFW  bool
	Art   []Art
}

// gallery is GET /gallery?order=new|top&nsfw=1: the art members shared to
// the art channel, newest or most reacted first; NSFW shares only when the
// visitor opts in.
func (w *Handler) gallery(ctx context.Context, r *http.Request) (string, page, error) {
	q := r.URL.Query()
	d := galleryData{Order: "new", NSFW: q.Get("nsfw") == "1"}
	aq := ArtQuery{Order: ArtNewest, NSFW: d.NSFW, Limit: GalleryLimit}
	if q.Get("order") == "top" {
		d.Order, aq.Order = "top", ArtMostReacted
	}
	read := func(ctx context.Context) ([]Art, error) { return w.st.SharedArt(ctx, aq) }
	var art []Art
	var err error
	if aq.Order == ArtMostReacted {
		// Ranking counts the reactors of every share: from the memo.
		art, err = w.art.get(ctx, fmt.Sprintf("top:%v", aq.NSFW), w.clock.Now(), read)
	} else {
		art, err = read(ctx)
	}
	if err != nil {
		return "", page{}, fmt.Errorf("gallery: %w", err)
	}
	d.Art = art
	return "gallery", page{Title: "Gallery", Path: "/gallery", Data: d}, nil
}
