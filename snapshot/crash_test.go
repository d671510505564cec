package snapshot

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// The crash test re-executes the test binary as a child that restores the directory and
// then applies the deterministic op stream (genOp) from a given index, reporting every
// acknowledged op (index, wall-clock time) on fd 3. The parent SIGKILLs it at a random
// moment, opens the directory itself, and checks that the restored store equals a reference
// store (a plain index.Store fed the same ops) after some prefix of the stream that holds
// every op acknowledged more than FlushInterval before the kill (strict mode: every
// acknowledged op) and nothing after the first unacknowledged op.

const crashEnv = "MEMGRAPH_SNAPSHOT_CRASH_CHILD"

func crashChildParams() map[string]string {
	v := os.Getenv(crashEnv)
	if v == "" {
		return nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		m[k] = val
	}
	return m
}

// TestCrashChild is the child's body; it is skipped unless run by TestCrashRecovery.
func TestCrashChild(t *testing.T) {
	m := crashChildParams()
	if m == nil {
		t.Skip("crash-test child only")
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	chunkTarget = 16 << 10
	opts := Options{Dir: m["dir"], SyncMode: m["mode"],
		FlushInterval:    time.Duration(atoi("flushms")) * time.Millisecond,
		SnapshotInterval: time.Duration(atoi("snapms")) * time.Millisecond,
		Logf:             func(f string, a ...any) { fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+f+"\n", a...) }}
	p, err := Open(opts)
	if m["lock"] == "1" {
		fmt.Printf("OPEN-ERROR: %v\n", err)
		if err == nil {
			p.Close()
		}
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child open: %v\n", err)
		os.Exit(3)
	}
	s, _ := index.New(index.Options{Observers: []index.Observer{p}})
	res, err := p.Restore(s)
	if err != nil || res.Outcome == RestoreCorrupt {
		fmt.Fprintf(os.Stderr, "child restore: %v %+v\n", err, res)
		os.Exit(3)
	}
	if err := p.Start(s); err != nil {
		os.Exit(3)
	}
	// The snapshot interval check runs at most every 5s: drive snapshots directly.
	go func() {
		for {
			time.Sleep(opts.SnapshotInterval)
			_ = p.Snapshot()
		}
	}()
	acks := os.NewFile(3, "acks")
	seed, start := int64(atoi("seed")), atoi("start")
	var buf [16]byte
	for i := start; ; i++ {
		if err := genOp(seed, i).apply(s); err != nil {
			fmt.Fprintf(os.Stderr, "child op %d: %v\n", i, err)
			os.Exit(3)
		}
		binary.LittleEndian.PutUint64(buf[:8], uint64(i))
		binary.LittleEndian.PutUint64(buf[8:], uint64(time.Now().UnixNano()))
		if _, err := acks.Write(buf[:]); err != nil {
			os.Exit(3)
		}
		if i%4 == 0 {
			time.Sleep(500 * time.Microsecond) // pace: the parent replays every op on its model
		}
	}
}

type ack struct {
	op int
	at time.Time
}

var lastChildStderr string

func runChild(t *testing.T, env string, killAfter time.Duration) (acks []ack, killedAt time.Time) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+env)
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan []ack)
	go func() {
		var out []ack
		br := bufio.NewReaderSize(r, 1<<16)
		var buf [16]byte
		for {
			if _, err := io.ReadFull(br, buf[:]); err != nil {
				break
			}
			out = append(out, ack{int(binary.LittleEndian.Uint64(buf[:8])),
				time.Unix(0, int64(binary.LittleEndian.Uint64(buf[8:])))})
		}
		done <- out
	}()
	time.Sleep(killAfter)
	killedAt = time.Now()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	acks = <-done
	r.Close()
	lastChildStderr = stderr.String()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed (%v): %s", err, stderr.String())
	}
	return acks, killedAt
}

func TestCrashRecovery(t *testing.T) {
	if crashChildParams() != nil {
		t.Skip("in child")
	}
	type modeRun struct {
		mode   string
		flush  time.Duration
		rounds int
	}
	runs := []modeRun{{SyncInterval, 100 * time.Millisecond, 16}, {SyncStrict, 100 * time.Millisecond, 8}}
	if n, _ := strconv.Atoi(os.Getenv("MEMGRAPH_CRASH_ROUNDS")); n > 0 {
		runs[0].rounds, runs[1].rounds = n, n
	}
	earlyKills := os.Getenv("MEMGRAPH_CRASH_EARLY") != ""
	if testing.Short() {
		runs[0].rounds, runs[1].rounds = 6, 3
	}
	for _, run := range runs {
		t.Run(run.mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			seed := time.Now().UnixNano() % 1000
			rng := rand.New(rand.NewSource(seed))
			t.Logf("seed %d", seed)
			model, _ := index.New(index.Options{})
			modelAt := 0 // ops applied to model
			restored := 0
			for round := 0; round < run.rounds; round++ {
				snapMs := 30 + rng.Intn(200)
				env := fmt.Sprintf("dir=%s,mode=%s,flushms=%d,snapms=%d,seed=%d,start=%d",
					dir, run.mode, run.flush.Milliseconds(), snapMs, seed, restored)
				killAfter := time.Duration(50+rng.Intn(700)) * time.Millisecond
				if round%5 == 4 || earlyKills {
					killAfter = time.Duration(rng.Intn(60)) * time.Millisecond // often mid-restore
				}
				acks, killedAt := runChild(t, env, killAfter)
				for i, a := range acks {
					if a.op != restored+i {
						t.Fatalf("round %d: ack %d is op %d, want %d", round, i, a.op, restored+i)
					}
				}
				// Bounds on the restored prefix length. Interval mode: every op acknowledged
				// more than FlushInterval before the kill must be there — provided the child
				// was running during that FlushInterval (the flusher needs CPU; on this shared
				// machine a process can be starved for longer). The child's last ack proves it
				// was running until then, so the bound is: every op acknowledged at least
				// FlushInterval before the child's last acknowledgement (which precedes the
				// kill).
				must := restored
				for _, a := range acks {
					if run.mode == SyncStrict || !a.at.After(acks[len(acks)-1].at.Add(-run.flush)) {
						must = a.op + 1
					}
				}
				maxLen := restored + len(acks) + 1

				p, err := Open(testOpts(dir, t))
				if err != nil {
					t.Fatalf("round %d: open: %v", round, err)
				}
				s, _ := index.New(index.Options{Observers: []index.Observer{p}})
				res, err := p.Restore(s)
				if err != nil || (res.Outcome != RestoreOK && res.Outcome != RestoreEmpty) {
					t.Fatalf("round %d: restore failed: %v %+v", round, err, res)
				}
				got := dump(s)
				for modelAt < must {
					if err := genOp(seed, modelAt).apply(model); err != nil {
						t.Fatal(err)
					}
					modelAt++
				}
				var diff string
				for {
					if diff = diffDumps(got, dump(model)); diff == "" || modelAt >= maxLen {
						break
					}
					if err := genOp(seed, modelAt).apply(model); err != nil {
						t.Fatal(err)
					}
					modelAt++
				}
				if diff != "" {
					var gaps []string
					for i := 1; i < len(acks); i++ {
						if g := acks[i].at.Sub(acks[i-1].at); g > 20*time.Millisecond {
							gaps = append(gaps, fmt.Sprintf("gap %s before op %d at kill-%s", g.Round(time.Millisecond), acks[i].op, killedAt.Sub(acks[i].at).Round(time.Millisecond)))
						}
					}
					if len(acks) > 0 {
						gaps = append(gaps, fmt.Sprintf("last ack at kill-%s", killedAt.Sub(acks[len(acks)-1].at).Round(time.Millisecond)))
					}
					diff += "\n" + strings.Join(gaps, "\n")
					t.Fatalf("round %d (%s, killed after %s, %d acks, must restore >= %d ops, at most %d): no prefix matches the restored store (%+v):\n%s",
						round, run.mode, killAfter, len(acks), must, maxLen, res, diff+"\nchild stderr:\n"+lastChildStderr)
				}
				t.Logf("round %d: killed after %s: %d ops acknowledged, %d must be restored, restored %d (%d objects, %d logged commits)",
					round, killAfter, len(acks), must-restored, modelAt-restored, res.Objects, res.LogCommits)
				restored = modelAt
				p.abandon(false)
			}
			if m := corruptDirs(t, dir); len(m) != 0 {
				t.Fatalf("data was moved aside: %v", m)
			}
		})
	}
}

// TestLockOtherProcess: a second process on the same directory fails fast and says why.
func TestLockOtherProcess(t *testing.T) {
	if crashChildParams() != nil {
		t.Skip("in child")
	}
	dir := filepath.Join(t.TempDir(), "db")
	p, s, _ := openStore(t, testOpts(dir, t))
	defer closeStore(t, p, s)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"=lock=1,dir="+dir+",mode=interval,flushms=100,snapms=1000")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "OPEN-ERROR: snapshot: another memgraph process is using " + dir
	if !strings.Contains(string(out), want) {
		t.Fatalf("child output %q lacks %q", out, want)
	}
	t.Logf("second process failed in %s: %s", time.Since(t0).Round(time.Millisecond), strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
}
