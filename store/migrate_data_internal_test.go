package store

import (
	"fmt"
	"strings"
	"testing"
)

// TestCopyKnowsEveryBlobColumn: the columns whose images migrate-data
// copies are the columns the blob sweep keeps images for (blobRefQueries),
// so that an image a row names is never left behind.
func TestCopyKnowsEveryBlobColumn(t *testing.T) {
	named := map[string]bool{}
	for _, q := range blobRefQueries {
		found := false
		for _, c := range blobRefColumns {
			if strings.Contains(q, "FROM "+c[0]+" WHERE "+c[1]+" = ?1") {
				named[c[0]+"."+c[1]] = true
				found = true
			}
		}
		if !found {
			t.Errorf("blobRefQueries has %q, whose column is not in blobRefColumns (migrate_data.go)", q)
		}
	}
	for _, c := range blobRefColumns {
		if !named[c[0]+"."+c[1]] {
			t.Errorf("blobRefColumns has %s.%s, which no blobRefQueries entry names", c[0], c[1])
		}
	}
}

// TestValuesList: the placeholders of a batch.
func TestValuesList(t *testing.T) {
	for _, tt := range []struct {
		rows, cols int
		want       string
	}{
		{2, 3, "(?,?,?),(?,?,?)"},
		{1, 1, "(?)"},
	} {
		if got := valuesList(tt.rows, tt.cols); got != tt.want {
			t.Errorf("valuesList(%d, %d) = %q, want %q", tt.rows, tt.cols, got, tt.want)
		}
	}
}

// TestConvertValue: what each target column kind takes from what a
// driver read, and what it refuses.
func TestConvertValue(t *testing.T) {
	for _, tt := range []struct {
		in   any
		kind valueKind
		dst  engine
		want any // nil with bad: refused
		bad  bool
	}{
		{int64(3), kindInt, postgresEngine, int64(3), false},
		{true, kindInt, postgresEngine, int64(1), false},
		{float64(4), kindInt, postgresEngine, int64(4), false},
		{float64(4.5), kindInt, postgresEngine, nil, true},
		{"12", kindInt, postgresEngine, nil, true},
		{int64(2), kindFloat, postgresEngine, float64(2), false},
		{[]byte("text"), kindText, postgresEngine, "text", false},
		{"a\x00b", kindText, postgresEngine, nil, true},
		{"a\x00b", kindText, sqliteEngine, "a\x00b", false},
		{string([]byte{0xff, 0xfe}), kindText, postgresEngine, nil, true},
		{int64(5), kindText, postgresEngine, nil, true},
		{"bytes", kindBytes, postgresEngine, []byte("bytes"), false},
		{nil, kindInt, postgresEngine, nil, false},
		{"anything", kindAny, sqliteEngine, "anything", false},
	} {
		got, err := convertValue(tt.in, tt.kind, tt.dst)
		if tt.bad {
			if err == nil {
				t.Errorf("convertValue(%#v, %v) = %#v, want a refusal", tt.in, tt.kind, got)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("convertValue(%#v, %v) = %#v, %v; want %#v", tt.in, tt.kind, got, err, tt.want)
		}
	}
}
