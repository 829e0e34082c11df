// Package langhost is what this project's language hosts (pulumi-language-nodejs and
// pulumi-language-python) share: how the Pulumi CLI starts one, how it ends, and how the programs
// it runs are kept from outliving it.
//
// A host's life, as the language host protocol (pulumirpc.LanguageRuntime) and the CLI's plugin
// loader have it: the CLI starts the host with the engine's gRPC address as the last argument,
// reads the port the host listens on from the first line of its standard output, and calls it.
// When it is done it sends SIGINT to the host's process group, then SIGKILL five seconds later.
//
// A host of this project ends when the first of these happens: SIGINT or SIGTERM, or the engine
// no longer answering its health check (the CLI died without a word: SIGKILL, a crash). Every
// program it started goes first: see Child.
package langhost

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Session is one run of a language host: the engine it serves and how long it lives.
type Session struct {
	// lifetime ends when the host is shutting down; context.Cause says why.
	lifetime context.Context

	mu     sync.Mutex
	engine string
}

// EngineAddress is the engine's gRPC address: from the command line, or from a Handshake.
func (s *Session) EngineAddress() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

func (s *Session) setEngineAddress(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine = addr
}

// Lifetime is done when the host is shutting down.
func (s *Session) Lifetime() context.Context { return s.lifetime }

// commandLine is what the CLI passes a plugin it starts (sdk/go/common/resource/plugin:
// buildPluginArguments, then the plugin's own arguments): optional logging and tracing flags, then
// for a language host the engine's address.
type commandLine struct {
	printVersion bool
	engine       string
}

func parseCommandLine(name string, args []string, usageTo io.Writer) (commandLine, error) {
	var cl commandLine
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usageTo)
	fs.BoolVar(&cl.printVersion, "version", false, "print the version and exit")
	// Passed by the CLI when asked to (pulumi -v=N --logflow [--logtostderr], --tracing); this
	// host logs nothing of its own, so they are accepted and left unused.
	fs.String("tracing", "", "accepted for the CLI's sake; unused")
	fs.Bool("logtostderr", false, "accepted for the CLI's sake; unused")
	fs.Bool("logflow", false, "accepted for the CLI's sake; unused")
	fs.Int("v", 0, "accepted for the CLI's sake; unused")
	fs.Usage = func() {
		fmt.Fprintf(usageTo, "usage: %s [-version] [--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS\n"+
			"  The Pulumi CLI starts this host itself; ENGINE_ADDRESS is the CLI's engine (host:port).\n", name)
	}
	if err := fs.Parse(args); err != nil {
		return cl, err
	}
	switch rest := fs.Args(); len(rest) {
	case 0:
	case 1:
		cl.engine = rest[0]
	default:
		fs.Usage()
		return cl, fmt.Errorf("%d arguments after the flags (%q); the engine's address is the only one", len(rest), rest)
	}
	return cl, nil
}

// engineCheckEvery is how often the host asks the engine whether it is still there.
const engineCheckEvery = 2 * time.Second

// stopGrace bounds how long the host waits, once it is shutting down, for the calls in flight to
// end (their children are killed at once); the CLI itself sends SIGKILL after five seconds.
const stopGrace = 3 * time.Second

// Main runs a language host: it serves newRuntime's server on a free port of 127.0.0.1, tells the
// CLI the port, and returns only by exiting the process.
func Main(newRuntime func(*Session) pulumirpc.LanguageRuntimeServer) {
	name := filepath.Base(os.Args[0])
	cl, err := parseCommandLine(name, os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	if cl.printVersion {
		fmt.Println(version.Version)
		return
	}

	lifetime, shutDown := context.WithCancelCause(context.Background())
	session := &Session{lifetime: lifetime, engine: cl.engine}

	// A write to a pipe or socket nobody reads any more (the CLI died) raises SIGPIPE; for standard
	// output and error the runtime's default is to die of it, before any child is stopped. Asked
	// for, it only fails the write with EPIPE; the engine's health check then says whether the CLI
	// is gone.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		for sig := range signals {
			if sig != syscall.SIGPIPE {
				shutDown(fmt.Errorf("the host received %v", sig))
			}
		}
	}()

	stopServing := make(chan bool, 1)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stopServing,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, newRuntime(session))
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot listen for the CLI's calls: %v\n", name, err)
		os.Exit(1)
	}
	// The CLI reads the port from the first line the plugin writes.
	fmt.Printf("%d\n", handle.Port)

	if cl.engine != "" {
		go watchEngine(lifetime, cl.engine, engineCheckEvery, func(err error) {
			shutDown(fmt.Errorf("the engine at %s stopped answering (%w)", cl.engine, err))
		})
	}

	select {
	case err := <-handle.Done:
		// Not asked to stop: the server failed under the host.
		shutDown(errors.New("the gRPC server stopped"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: the gRPC server stopped: %v\n", name, err)
			os.Exit(1)
		}
		return
	case <-lifetime.Done():
	}
	// Every child watches lifetime and is being killed by now; the calls that wait on them return,
	// and the server stops once they have.
	stopServing <- true
	select {
	case <-handle.Done:
	case <-time.After(stopGrace):
	}
	os.Exit(0)
}
