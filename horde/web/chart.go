package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one value of a chart's series at a time.
type Point struct {
	At    time.Time
	Value float64
}

// Chart is a line chart drawn server-side as inline SVG: readable without
// JavaScript, by screen readers (its label sums it up) and in both themes
// (it draws with currentColor and CSS variables).
type Chart struct {
	ID     string // unique on the page; the SVG's id
	Title  string // "Queue length, last 24 hours"
	Unit   string // shown after values: "items", "s"
	Points []Point
}

// chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH = 600.0, 160.0
	chartPad       = 4.0
)

// Latest is the last value, 0 for an empty chart.
func (c Chart) Latest() float64 {
	if len(c.Points) == 0 {
		return 0
	}
	return c.Points[len(c.Points)-1].Value
}

// Max is the largest value, 0 for an empty chart.
func (c Chart) Max() float64 {
	if len(c.Points) == 0 {
		return 0
	}
	m := c.Points[0].Value
	for _, p := range c.Points {
		m = math.Max(m, p.Value)
	}
	return m
}

// Min is the smallest value, 0 for an empty chart.
func (c Chart) Min() float64 {
	if len(c.Points) == 0 {
		return 0
	}
	m := c.Points[0].Value
	for _, p := range c.Points {
		m = math.Min(m, p.Value)
	}
	return m
}

// Label sums the chart up in words, for its aria-label.
func (c Chart) Label() string {
	if len(c.Points) == 0 {
		return c.Title + ": no data yet"
	}
	return fmt.Sprintf("%s: %d points, latest %s %s, highest %s %s, lowest %s %s", c.Title, len(c.Points),
		num(c.Latest()), c.Unit, num(c.Max()), c.Unit, num(c.Min()), c.Unit)
}

// SVG renders the chart. The polyline has one vertex per point (the tests
// count them) and the SVG carries data-points with the same number.
func (c Chart) SVG() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %g %g" preserveAspectRatio="none" role="img" aria-label="%s" data-points="%d">`,
		template.HTMLEscapeString(c.ID), chartW, chartH, template.HTMLEscapeString(c.Label()), len(c.Points))
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(c.Label()))
	// The value axis runs from 0 (or the lowest value, when negative) to
	// the highest; the line at 0 is drawn.
	bottom, top := math.Min(0, c.Min()), math.Max(0, c.Max())
	if top-bottom <= 0 {
		top = bottom + 1
	}
	y := func(v float64) float64 { return chartH - chartPad - (v-bottom)/(top-bottom)*(chartH-2*chartPad) }
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%.1f" x2="%g" y2="%.1f"/>`, y(0), chartW, y(0))
	if len(c.Points) > 0 {
		lo, hi := c.Points[0].At, c.Points[len(c.Points)-1].At
		span := hi.Sub(lo).Seconds()
		pts := make([]string, len(c.Points))
		for i, p := range c.Points {
			x := chartW / 2
			if span > 0 {
				x = p.At.Sub(lo).Seconds() / span * chartW
			}
			pts[i] = strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y(p.Value), 'f', 1, 64)
		}
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
		// The latest value as a dot: a chart of one point shows it too.
		last := strings.Split(pts[len(pts)-1], ",")
		fmt.Fprintf(&b, `<circle class="dot" cx="%s" cy="%s" r="3"/>`, last[0], last[1])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// num formats a value without needless decimals: 12, 3.5, 1.2k.
func num(v float64) string {
	switch {
	case math.Abs(v) >= 10000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}
