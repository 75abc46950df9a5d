package worker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Following a ComfyUI prompt: its websocket /ws?clientId= carries JSON
// messages {"type": ..., "data": {...}} (execution_start, executing,
// progress, executed, execution_cached, execution_success, execution_error,
// execution_interrupted) and binary preview frames (a big-endian uint32
// event type, 1 for a preview, a uint32 image format, 1 JPEG or 2 PNG, then
// the image). ComfyUI sends a prompt's messages and previews to the client
// id it was queued with, so each job has its own. /history/{prompt_id} is
// the record of a finished prompt; it is also polled, as a backstop for a
// lost message and in place of a websocket that does not open.

// comfyDialTimeout bounds opening the websocket.
const comfyDialTimeout = 10 * time.Second

// comfyCleanupTimeout bounds the requests that tidy up after a job.
const comfyCleanupTimeout = 5 * time.Second

// comfyHistoryFailures is how many /history polls in a row may fail, with
// no websocket, before the job fails.
const comfyHistoryFailures = 5

// maxComfyFrame bounds one websocket message (a preview frame).
const maxComfyFrame = 32 << 20

// comfyEvent is one message of a prompt's websocket.
type comfyEvent struct {
	kind     comfyEventKind
	promptID string
	err      *ComfyUIError
	preview  image.Image
}

type comfyEventKind int

const (
	comfyRunning     comfyEventKind = iota // execution_start, executing a node, progress
	comfyDone                              // executing null, execution_success
	comfyFailed                            // execution_error, execution_interrupted
	comfyPreviewShot                       // a binary preview frame
)

// comfyEvents is one job's websocket; a nil ch means none.
type comfyEvents struct {
	conn     *websocket.Conn
	ch       chan comfyEvent
	stop     chan struct{}
	wg       sync.WaitGroup
	previews bool // decode preview frames (else they are dropped)
}

// dialEvents opens the websocket of clientID; previews says whether to
// decode preview frames. When it does not open, the job goes on without it
// (polling /history, no previews).
func (c *ComfyUI) dialEvents(ctx context.Context, jobID, clientID string, previews bool) *comfyEvents {
	u := *c.base
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path += "/ws"
	u.RawQuery = url.Values{"clientId": {clientID}}.Encode()
	dctx, cancel := context.WithTimeout(ctx, comfyDialTimeout)
	defer cancel()
	conn, resp, err := websocket.DefaultDialer.DialContext(dctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		c.log.Warn("comfyui: no websocket; following the prompt through /history, without previews", "job", jobID, "err", err)
		return &comfyEvents{}
	}
	conn.SetReadLimit(maxComfyFrame)
	// ComfyUI greets a socket with its queue status once it has filed it
	// under the client id: from then on, the prompt's messages reach it.
	_ = conn.SetReadDeadline(time.Now().Add(comfyDialTimeout))
	if _, _, err := conn.ReadMessage(); err != nil {
		_ = conn.Close()
		c.log.Warn("comfyui: the websocket said nothing; following the prompt through /history, without previews", "job", jobID, "err", err)
		return &comfyEvents{}
	}
	_ = conn.SetReadDeadline(time.Time{})
	ev := &comfyEvents{conn: conn, ch: make(chan comfyEvent, 16), stop: make(chan struct{}), previews: previews}
	ev.wg.Add(1)
	go ev.read(c, jobID)
	return ev
}

// close closes the websocket and waits for its reader.
func (ev *comfyEvents) close() {
	if ev.conn == nil {
		return
	}
	close(ev.stop)
	_ = ev.conn.Close()
	ev.wg.Wait()
}

// read turns the websocket's messages into events until it ends.
func (ev *comfyEvents) read(c *ComfyUI, jobID string) {
	defer ev.wg.Done()
	defer close(ev.ch)
	for {
		typ, data, err := ev.conn.ReadMessage()
		if err != nil {
			select {
			case <-ev.stop:
			default:
				c.log.Debug("comfyui: websocket ended", "job", jobID, "err", err)
			}
			return
		}
		var e comfyEvent
		var ok bool
		if typ == websocket.BinaryMessage {
			if !ev.previews {
				continue
			}
			e, ok = decodeComfyPreview(data)
			if !ok {
				continue
			}
		} else if e, ok = decodeComfyMessage(data); !ok {
			continue
		}
		select {
		case ev.ch <- e:
		case <-ev.stop:
			return
		}
	}
}

// decodeComfyPreview decodes a binary preview frame.
func decodeComfyPreview(data []byte) (comfyEvent, bool) {
	if len(data) < 8 || binary.BigEndian.Uint32(data[:4]) != 1 {
		return comfyEvent{}, false
	}
	var img image.Image
	var err error
	switch binary.BigEndian.Uint32(data[4:8]) {
	case 1:
		img, err = jpeg.Decode(bytes.NewReader(data[8:]))
	case 2:
		img, err = png.Decode(bytes.NewReader(data[8:]))
	default:
		return comfyEvent{}, false
	}
	if err != nil {
		return comfyEvent{}, false
	}
	return comfyEvent{kind: comfyPreviewShot, preview: img}, true
}

// comfyMessageData is the data of the JSON messages the follower reads.
type comfyMessageData struct {
	PromptID         string          `json:"prompt_id"`
	Node             json.RawMessage `json:"node"`
	NodeID           json.RawMessage `json:"node_id"`
	NodeType         string          `json:"node_type"`
	ExceptionType    string          `json:"exception_type"`
	ExceptionMessage string          `json:"exception_message"`
}

// decodeComfyMessage decodes a JSON message; ok is false for the ones the
// follower does not need.
func decodeComfyMessage(data []byte) (comfyEvent, bool) {
	var m struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &m) != nil {
		return comfyEvent{}, false
	}
	var d comfyMessageData
	if json.Unmarshal(m.Data, &d) != nil {
		return comfyEvent{}, false
	}
	e := comfyEvent{promptID: d.PromptID}
	switch m.Type {
	case "execution_start", "progress":
		e.kind = comfyRunning
	case "executing":
		if len(d.Node) == 0 {
			return comfyEvent{}, false
		}
		e.kind = comfyRunning
		if string(d.Node) == "null" {
			e.kind = comfyDone
		}
	case "execution_success":
		e.kind = comfyDone
	case "execution_error", "execution_interrupted":
		e.kind, e.err = comfyFailed, comfyExecutionError(m.Type, d)
	default:
		return comfyEvent{}, false
	}
	return e, true
}

// comfyExecutionError describes an execution_error or execution_interrupted.
func comfyExecutionError(typ string, d comfyMessageData) *ComfyUIError {
	node := strings.Trim(string(d.NodeID), `"`)
	if typ == "execution_interrupted" {
		return &ComfyUIError{Message: fmt.Sprintf("the prompt was interrupted at node %s (%s)", node, d.NodeType)}
	}
	return &ComfyUIError{Message: fmt.Sprintf("node %s (%s) failed: %s: %s", node, d.NodeType, d.ExceptionType,
		strings.TrimSpace(d.ExceptionMessage))}
}

// comfyImageRef is an output image as /history names it.
type comfyImageRef struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// comfyHistoryEntry is a finished prompt in /history/{prompt_id}.
type comfyHistoryEntry struct {
	Outputs map[string]struct {
		Images []comfyImageRef `json:"images"`
	} `json:"outputs"`
	Status *struct {
		StatusStr string              `json:"status_str"`
		Messages  [][]json.RawMessage `json:"messages"`
	} `json:"status"`
}

// follow waits for the prompt to finish: on the websocket, and on /history
// now and then. It returns its history entry, or the error it ended with.
// When ctx ends first it takes the prompt off ComfyUI's queue, or
// interrupts it when it is running.
func (c *ComfyUI) follow(ctx context.Context, job Job, promptID string, ws *comfyEvents) (comfyHistoryEntry, error) {
	events := ws.ch
	every := c.pollEvery
	if events == nil {
		every = min(every, time.Second)
	}
	poll := time.NewTicker(every)
	defer poll.Stop()
	running, failures := false, 0
	for {
		select {
		case <-ctx.Done():
			c.abandon(ctx, promptID, running)
			return comfyHistoryEntry{}, fmt.Errorf("comfyui: prompt %s abandoned: %w", promptID, context.Cause(ctx))
		case e, ok := <-events:
			if !ok {
				events = nil
				poll.Reset(min(c.pollEvery, time.Second))
				continue
			}
			if e.promptID != "" && e.promptID != promptID {
				continue
			}
			switch e.kind {
			case comfyRunning:
				running = true
			case comfyPreviewShot:
				if running && job.Preview != nil {
					job.Preview(e.preview)
				}
			case comfyFailed:
				return comfyHistoryEntry{}, e.err
			case comfyDone:
				entry, found, err := c.history(ctx, promptID)
				if err != nil {
					return comfyHistoryEntry{}, err
				}
				if found {
					return entry, entry.failure()
				}
			}
		case <-poll.C:
			entry, found, err := c.history(ctx, promptID)
			if err == nil && !found {
				// Neither finished nor queued: ComfyUI restarted and lost
				// it, unless it finished just now.
				var queued bool
				if queued, err = c.queued(ctx, promptID); err == nil && !queued {
					if entry, found, err = c.history(ctx, promptID); err == nil && !found {
						return comfyHistoryEntry{}, &ComfyUIError{Message: fmt.Sprintf("prompt %s is neither queued nor finished (did ComfyUI restart?)", promptID)}
					}
				}
			}
			switch {
			case err != nil && ctx.Err() == nil:
				failures++
				c.log.Debug("comfyui: history", "job", job.ID, "err", err)
				if events == nil && failures >= comfyHistoryFailures {
					return comfyHistoryEntry{}, err
				}
			case found:
				return entry, entry.failure()
			default:
				failures = 0
			}
		}
	}
}

// failure returns the error a finished prompt ended with, if any.
func (h comfyHistoryEntry) failure() error {
	if h.Status == nil || h.Status.StatusStr != "error" {
		return nil
	}
	for _, m := range h.Status.Messages {
		if len(m) != 2 {
			continue
		}
		var typ string
		var d comfyMessageData
		if json.Unmarshal(m[0], &typ) == nil && (typ == "execution_error" || typ == "execution_interrupted") &&
			json.Unmarshal(m[1], &d) == nil {
			return comfyExecutionError(typ, d)
		}
	}
	return &ComfyUIError{Message: "the prompt failed (its history gives no reason)"}
}

// history reads /history/{prompt_id}; found is false while the prompt has not finished.
func (c *ComfyUI) history(ctx context.Context, promptID string) (comfyHistoryEntry, bool, error) {
	var out map[string]comfyHistoryEntry
	if err := getBackendJSON(ctx, c.http, "comfyui", joinPath(c.base, "/history/"+url.PathEscape(promptID)), maxBackendResponse, &out); err != nil {
		return comfyHistoryEntry{}, false, err
	}
	entry, ok := out[promptID]
	return entry, ok, nil
}

// outputImages fetches the finished prompt's n images: the first n saved
// ("output") images of the output node with the lowest id that has n, else
// the first n images of any type, in the order ComfyUI lists them (a
// batch's order).
func (c *ComfyUI) outputImages(ctx context.Context, h comfyHistoryEntry, n int) ([][]byte, error) {
	ids := slices.SortedFunc(maps.Keys(h.Outputs), func(a, b string) int {
		na, ea := strconv.Atoi(a)
		nb, eb := strconv.Atoi(b)
		if ea == nil && eb == nil {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	var picks []comfyImageRef
	for _, wantOutput := range []bool{true, false} {
		for _, id := range ids {
			var refs []comfyImageRef
			for _, img := range h.Outputs[id].Images {
				if !wantOutput || img.Type == "output" {
					refs = append(refs, img)
				}
			}
			if picks == nil && len(refs) >= n {
				picks = refs[:n]
			}
		}
	}
	if picks == nil {
		return nil, &ComfyUIError{Message: fmt.Sprintf("the prompt finished without %d images (does the workflow end in SaveImage?)", n)}
	}
	out := make([][]byte, 0, n)
	for _, ref := range picks {
		data, err := c.view(ctx, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

// view fetches one saved image with GET /view.
func (c *ComfyUI) view(ctx context.Context, pick comfyImageRef) ([]byte, error) {
	q := url.Values{"filename": {pick.Filename}, "subfolder": {pick.Subfolder}, "type": {pick.Type}}
	target := joinPath(c.base, "/view") + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("comfyui: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("comfyui: GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("comfyui: GET %s: %w", target, err)
	}
	if len(data) > maxImageBytes {
		return nil, fmt.Errorf("comfyui: GET %s: image over %d bytes", target, maxImageBytes)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &BackendError{Backend: "comfyui", URL: target, StatusCode: resp.StatusCode, Body: snippet(data)}
	}
	return data, nil
}

// forget deletes a finished prompt from ComfyUI's history (best effort:
// the history is in memory and grows with every job).
func (c *ComfyUI) forget(ctx context.Context, promptID string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), comfyCleanupTimeout)
	defer cancel()
	c.postQuietly(cctx, "/history", map[string]any{"delete": []string{promptID}})
}

// comfyQueue is GET /queue.
type comfyQueue struct {
	Running [][]json.RawMessage `json:"queue_running"`
	Pending [][]json.RawMessage `json:"queue_pending"`
}

// getQueue reads ComfyUI's queue.
func (c *ComfyUI) getQueue(ctx context.Context) (comfyQueue, error) {
	var q comfyQueue
	err := getBackendJSON(ctx, c.http, "comfyui", joinPath(c.base, "/queue"), maxBackendResponse, &q)
	return q, err
}

// queued reports whether a prompt is running or waiting on ComfyUI.
func (c *ComfyUI) queued(ctx context.Context, promptID string) (bool, error) {
	q, err := c.getQueue(ctx)
	if err != nil {
		return false, err
	}
	return comfyQueueHas(q.Running, promptID) || comfyQueueHas(q.Pending, promptID), nil
}

// abandon takes a prompt whose job ended off ComfyUI: it deletes it from
// the queue when it waits there and interrupts it when it runs (GET /queue
// says which; when it does not answer, running is what the websocket said).
// The interrupt names the prompt, so that a ComfyUI that knows the field
// interrupts only that one.
func (c *ComfyUI) abandon(ctx context.Context, promptID string, running bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), comfyCleanupTimeout)
	defer cancel()
	if q, err := c.getQueue(cctx); err == nil {
		running = comfyQueueHas(q.Running, promptID)
	}
	if running {
		c.log.Info("comfyui: interrupting the abandoned prompt", "prompt", promptID)
		c.postQuietly(cctx, "/interrupt", map[string]any{"prompt_id": promptID})
		return
	}
	c.postQuietly(cctx, "/queue", map[string]any{"delete": []string{promptID}})
}

// comfyQueueHas reports whether a /queue list ([number, prompt_id, ...] items) has promptID.
func comfyQueueHas(items [][]json.RawMessage, promptID string) bool {
	for _, it := range items {
		var id string
		if len(it) > 1 && json.Unmarshal(it[1], &id) == nil && id == promptID {
			return true
		}
	}
	return false
}
