package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHandleMountsBehindMiddleware: a handler mounted with Handle is served through a real
// listener behind the same authentication, limits and instrumentation as the built-in
// routes, for GET and HEAD only; bad or clashing patterns and late mounts are refused.
func TestHandleMountsBehindMiddleware(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	cfg.BearerTokenFile = writeFile(t, t.TempDir(), "token", "tok\n")
	cfg.MaxRequestBytes = 2048
	srv, err := New(cfg, g, s, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	extra := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		if _, ok := r.Context().Deadline(); !ok {
			t.Errorf("%s: no request deadline (limits middleware not applied)", r.URL.Path)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("extra " + r.URL.Path + "\n"))
	})
	for _, p := range []string{"/extra/all", "/extra/{name}/metrics"} {
		if err := srv.Handle(p, extra); err != nil {
			t.Fatalf("Handle(%q): %v", p, err)
		}
	}
	for _, tc := range []struct {
		pattern string
		h       http.Handler
		want    string
	}{
		{"/metrics", extra, "already served"},
		{"/healthz", extra, "already served"},
		{"/extra/all", extra, "already served"},
		{"extra", extra, `starts with "/"`},
		{"/extra/{x", extra, "/extra/{x"},
		{"/other", nil, "nil handler"},
	} {
		if err := srv.Handle(tc.pattern, tc.h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Handle(%q) = %v, want an error containing %q", tc.pattern, err, tc.want)
		}
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	if err := srv.Handle("/late", extra); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("Handle after Start = %v", err)
	}

	c := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + srv.Addr()
	auth := []string{"Authorization", "Bearer tok"}
	for _, p := range []string{"/extra/all", "/extra/c1/metrics"} {
		if code, _, body := get(t, c, base+p); code != 401 || !strings.Contains(body, "bearer token") {
			t.Errorf("%s without the token: %d %s", p, code, body)
		}
		if code, ctype, body := get(t, c, base+p, auth...); code != 200 || ctype != "text/plain" || body != "extra "+p+"\n" {
			t.Errorf("%s: %d %q %q", p, code, ctype, body)
		}
	}
	if code, _, _ := get(t, c, base+"/extra/c1/other", auth...); code != 404 {
		t.Errorf("unmatched path under a pattern: %d, want 404", code)
	}
	if code, _, _ := get(t, c, base+"/extra/all?q="+strings.Repeat("x", 4096), auth...); code != http.StatusRequestURITooLong {
		t.Errorf("long URL: %d, want 414", code)
	}
	for _, mc := range []struct {
		method string
		code   int
	}{{http.MethodHead, 200}, {http.MethodPost, 405}, {http.MethodDelete, 405}} {
		req, _ := http.NewRequest(mc.method, base+"/extra/all", nil)
		req.Header.Set(auth[0], auth[1])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != mc.code {
			t.Errorf("%s /extra/all: %d, want %d", mc.method, resp.StatusCode, mc.code)
		}
	}
	if want := "GET /extra/all,GET /extra/c1/metrics,HEAD /extra/all"; strings.Join(seen, ",") != want {
		t.Errorf("handler saw %q, want %q", strings.Join(seen, ","), want)
	}
	// Requests are counted under the route pattern.
	_, _, body := get(t, c, base+"/metrics", auth...)
	for _, want := range []string{
		`memgraph_http_requests_total{code="200",route="/extra/{name}/metrics"} 1`,
		`memgraph_http_requests_total{code="401",route="/extra/{name}/metrics"} 1`,
		`memgraph_http_requests_total{code="200",route="/extra/all"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
