package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Server is memgraph's own HTTP port: the relationship graph API, /metrics, /healthz,
// /readyz, and the handlers other components mount with Handle. It serves its own chi
// router — never http.DefaultServeMux, which other packages of the host process register
// debug handlers on.
type Server struct {
	cfg   config.Server
	graph config.Graph
	store *index.Store
	m     *Metrics
	ready func() bool

	tokenSum [sha256.Size]byte
	hasToken bool
	tls      *tls.Config
	handler  http.Handler
	authed   chi.Router      // the authenticated route group (Handle adds to it)
	patterns map[string]bool // every route pattern served

	mu      sync.Mutex
	srv     *http.Server
	ln      net.Listener
	serving chan struct{}
	errc    chan error
}

// New validates the configuration, reads the token, certificate and CA files, and builds
// the router. A non-loopback listen address with neither a bearer token nor a client CA is
// refused unless allowUnauthenticated is set. ready reports readiness for /readyz (nil:
// always ready); m may be nil (a private registry is created).
func New(cfg config.Server, g config.Graph, store *index.Store, m *Metrics, ready func() bool) (*Server, error) {
	def := config.Default()
	if cfg.ListenAddress == "" {
		cfg.ListenAddress = def.Server.ListenAddress
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = def.Server.MaxRequestBytes
	}
	if cfg.RequestTimeout.Duration == 0 {
		cfg.RequestTimeout = def.Server.RequestTimeout
	}
	if g.DefaultDepth == 0 {
		g.DefaultDepth = def.Graph.DefaultDepth
	}
	if g.MaxDepth == 0 {
		g.MaxDepth = def.Graph.MaxDepth
	}
	if g.MaxNodes == 0 {
		g.MaxNodes = def.Graph.MaxNodes
	}
	if store == nil {
		return nil, errors.New("api: nil store")
	}
	full := config.Config{Persistence: def.Persistence, Server: cfg, Graph: g}
	if err := full.Validate(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if m == nil {
		m = NewMetrics()
	}
	if ready == nil {
		ready = func() bool { return true }
	}
	s := &Server{cfg: cfg, graph: g, store: store, m: m, ready: ready}
	if cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("api: server.bearerTokenFile: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return nil, fmt.Errorf("api: server.bearerTokenFile %s is empty", cfg.BearerTokenFile)
		}
		s.tokenSum = sha256.Sum256([]byte(tok))
		s.hasToken = true
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("api: server.tlsCertFile/tlsKeyFile: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if cfg.ClientCAFile != "" {
			pem, err := os.ReadFile(cfg.ClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("api: server.clientCAFile: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("api: server.clientCAFile %s holds no PEM certificate", cfg.ClientCAFile)
			}
			s.tls.ClientCAs = pool
			s.tls.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's router (for in-process use; Start serves it).
func (s *Server) Handler() http.Handler { return s.handler }

// Handle serves h at pattern for GET and HEAD behind the same middleware as the built-in
// API: panic recovery, request instrumentation (counted under pattern), the request size
// and time limits, and authentication (bearer token; client certificates are checked by
// TLS). pattern is a chi route pattern: it starts with "/", and "{name}" matches one path
// segment. Call Handle before Start; a pattern that is already served is an error.
func (s *Server) Handle(pattern string, h http.Handler) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.srv != nil:
		return fmt.Errorf("api: Handle(%q): the server is already started", pattern)
	case h == nil:
		return fmt.Errorf("api: Handle(%q): nil handler", pattern)
	case !strings.HasPrefix(pattern, "/"):
		return fmt.Errorf("api: Handle(%q): a pattern starts with \"/\"", pattern)
	case s.patterns[pattern]:
		return fmt.Errorf("api: Handle(%q): the pattern is already served", pattern)
	}
	defer func() {
		// chi panics on malformed patterns ("{" without "}", a duplicate parameter name, ...).
		if v := recover(); v != nil {
			err = fmt.Errorf("api: Handle(%q): %v", pattern, v)
		}
	}()
	s.authed.Method(http.MethodGet, pattern, h)
	s.patterns[pattern] = true
	return nil
}

// Start binds the listen address now — returning the bind error — and serves in the
// background until Shutdown.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("api: server already started")
	}
	ln, err := net.Listen("tcp", s.cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.cfg.ListenAddress, err)
	}
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	// Connection-level timeouts follow the request timeout (at least 1s: the request
	// deadline itself is enforced per request).
	t := s.cfg.RequestTimeout.Duration
	if t < time.Second {
		t = time.Second
	}
	hdr := 10 * time.Second
	if t < hdr {
		hdr = t
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: hdr,
		ReadTimeout:       t,
		WriteTimeout:      t + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    int(s.cfg.MaxRequestBytes) + 16<<10,
		ErrorLog:          log.New(os.Stderr, "memgraph api: ", log.LstdFlags),
	}
	s.ln = ln
	s.errc = make(chan error, 1)
	srv := s.srv
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.errc <- err
	}()
	return nil
}

// Addr is the bound address (host:port), "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits for in-flight requests (bounded by ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, errc := s.srv, s.errc
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	if serveErr := <-errc; err == nil {
		err = serveErr
	}
	return err
}

// --- router and middleware ---

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.instrument, s.limits, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+truncate(r.URL.Path, 128), "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the API is read-only", "")
	})
	// Health endpoints answer without authentication (probes); with a client CA the TLS
	// handshake itself already requires a certificate.
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Group(func(r chi.Router) {
		r.Use(s.authenticate)
		metrics := promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
		r.Get("/metrics", func(w http.ResponseWriter, req *http.Request) {
			s.m.catchUp()
			metrics.ServeHTTP(w, req)
		})
		r.Get("/api/v1/relations", s.relations)
		r.Get("/api/v1/graph", s.graphHandler)
		r.Get("/api/v1/owners/ancestors", s.ancestors)
		r.Get("/api/v1/owners/descendants", s.descendants)
		s.authed = r
	})
	s.patterns = map[string]bool{}
	for _, rt := range r.Routes() {
		s.patterns[rt.Pattern] = true
	}
	return r
}

type errorJSON struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error": "encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg, param string) {
	writeJSON(w, code, errorJSON{Error: msg, Parameter: param})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, http.StatusInternalServerError, "internal error", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts requests by route pattern and status.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		s.m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	})
}

// limits enforces the request size bounds and the per-request deadline.
func (s *Server) limits(next http.Handler) http.Handler {
	max := s.cfg.MaxRequestBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int64(len(r.URL.RawPath)+len(r.URL.Path)+len(r.URL.RawQuery)) > max {
			writeError(w, http.StatusRequestURITooLong, fmt.Sprintf("request URL longer than %d bytes", max), "")
			return
		}
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body longer than %d bytes", max), "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout.Duration)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate checks "Authorization: Bearer <token>" in constant time when a token is
// configured (client certificates are verified by the TLS handshake).
func (s *Server) authenticate(next http.Handler) http.Handler {
	if !s.hasToken {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		const prefix = "Bearer "
		ok := false
		if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
			sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
			ok = subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="memgraph"`)
			writeError(w, http.StatusUnauthorized, "missing or invalid bearer token", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}
