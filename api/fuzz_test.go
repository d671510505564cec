package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

var fuzzServer struct {
	once sync.Once
	srv  *Server
}

// FuzzQueryParameters sends arbitrary query strings to every endpoint: the answer is
// always a 200 with a well-formed body, a JSON 400 naming a parameter, or a JSON 404 — never
// a panic, a 500, or Secret data.
func FuzzQueryParameters(f *testing.F) {
	for _, gc := range goldenCases {
		if i := strings.IndexByte(gc.path, '?'); i >= 0 {
			f.Add(0, gc.path[i+1:])
		}
	}
	for _, ec := range errorCases {
		if i := strings.IndexByte(ec.path, '?'); i >= 0 && len(ec.path) < 1000 {
			f.Add(1, ec.path[i+1:])
		}
	}
	f.Add(2, "cluster=prod-eu&uid="+euPod+"&depth=20&direction=both")
	f.Add(0, "cluster=prod-eu&uid="+euSecret+"&kinds=all&format=mermaid&limit=1")
	f.Add(0, "cluster=%00&uid=%C0%80")
	f.Fuzz(func(t *testing.T, endpoint int, rawQuery string) {
		fuzzServer.once.Do(func() {
			s, m := newFixtureStore(t)
			cfg, g := testConfig()
			srv, err := New(cfg, g, s, m, nil)
			if err != nil {
				t.Fatal(err)
			}
			fuzzServer.srv = srv
		})
		paths := []string{"/api/v1/graph", "/api/v1/owners/ancestors", "/api/v1/owners/descendants", "/api/v1/relations"}
		if endpoint < 0 {
			endpoint = -endpoint
		}
		path := paths[endpoint%len(paths)]
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = path
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		fuzzServer.srv.Handler().ServeHTTP(rec, req)
		body := rec.Body.String()
		if strings.Contains(body, secretValue) {
			t.Fatalf("secret data in %s?%s", path, rawQuery)
		}
		switch rec.Code {
		case http.StatusOK:
			if ct := rec.Header().Get("Content-Type"); ct == "application/json" && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("invalid JSON for %s?%q", path, rawQuery)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestURITooLong:
			var e errorJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error for %s?%q: %s", rec.Code, path, rawQuery, body)
			}
			if rec.Code == http.StatusBadRequest && e.Parameter == "" {
				t.Fatalf("400 without a parameter for %s?%q: %s", path, rawQuery, body)
			}
		default:
			t.Fatalf("status %d for %s?%q: %s", rec.Code, path, rawQuery, body)
		}
	})
}
