package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no placeholders", "SELECT 1", "SELECT 1"},
		{"bare", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"numbered and repeated", "UPDATE t SET a = a + ?1 WHERE b = ?2 AND a + ?1 >= ?3", "UPDATE t SET a = a + $1 WHERE b = $2 AND a + $1 >= $3"},
		{"bare after numbered", "SELECT ?2, ?", "SELECT $2, $3"},
		{"in a string literal", "SELECT '?', ? FROM t WHERE x = 'it''s ?'", "SELECT '?', $1 FROM t WHERE x = 'it''s ?'"},
		{"in a quoted identifier", `SELECT "a?" FROM t WHERE b = ?`, `SELECT "a?" FROM t WHERE b = $1`},
		{"in a line comment", "SELECT ? -- why?\nFROM t WHERE b = ?", "SELECT $1 -- why?\nFROM t WHERE b = $2"},
		{"in a block comment", "SELECT ? /* ? */, ?", "SELECT $1 /* ? */, $2"},
		{"unterminated literal", "SELECT 'a?", "SELECT 'a?"},
	}
	var cache rebindCache
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for range 2 { // the first time computed, then cached
				if got := cache.get(tt.in); got != tt.want {
					t.Errorf("cached rebind(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}
