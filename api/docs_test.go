package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowGoldenResponses keeps docs/api.md honest: every sample response it shows is
// a golden file of these tests, verbatim.
func TestDocsShowGoldenResponses(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), strings.TrimRight(string(b), "\n")) {
			t.Errorf("docs/api.md does not show %s verbatim: update the sample", f)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no golden files")
	}
	for _, gc := range goldenCases {
		if !strings.Contains(string(doc), gc.path) {
			t.Errorf("docs/api.md has no curl example for %s", gc.path)
		}
	}
}
