package langhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// ExitReported is the exit code by which a program's runner says it has already reported its
// error to the engine, so the CLI should add nothing: @pulumi/pulumi's cmd/run exits with it, and
// so does this project's runner.py.
const ExitReported = 32

// childWaitDelay is how long, after a child has exited or been killed, its output pipes are read
// before they are closed (a process it left behind may hold them open).
const childWaitDelay = 2 * time.Second

// Child is a process a host starts for one call of the CLI: a program, a plugin, pip. It runs in a
// process group of its own, so that it and whatever it starts go together: the whole group gets
// SIGKILL when the call's context ends (the CLI cancelled the call, or its connection closed) or
// when the host shuts down (Session.Lifetime: a signal, or the engine gone). Should the host itself
// die first, the kernel sends the child SIGKILL (PR_SET_PDEATHSIG). After the child has exited, its
// group is swept too: nothing it started outlives the call.
type Child struct {
	// Cmd is the process to run; set its Dir, Env, Stdout and Stderr, then call Execute.
	Cmd *exec.Cmd

	ctx     context.Context
	release func()
	stopped error // why it was killed, once Execute has returned; nil if it ended by itself
}

// Child prepares name with args as a child of the call whose context is call.
func (s *Session) Child(call context.Context, name string, args ...string) *Child {
	ctx, stop := context.WithCancelCause(call)
	unhook := context.AfterFunc(s.lifetime, func() {
		stop(fmt.Errorf("the language host is shutting down: %w", context.Cause(s.lifetime)))
	})
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = childWaitDelay
	return &Child{Cmd: cmd, ctx: ctx, release: func() { unhook(); stop(nil) }}
}

// killGroup sends SIGKILL to the process group led by pid; a group already empty is no error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// Execute starts the child and waits for it and its output; a Child runs once.
func (c *Child) Execute() error {
	result := make(chan error, 1)
	go func() {
		// PR_SET_PDEATHSIG fires when the thread that started the child ends, not the process:
		// this goroutine keeps one thread from Start until the child has been waited for, and
		// never gives it back, so the runtime retires it only then.
		runtime.LockOSThread()
		if err := c.Cmd.Start(); err != nil {
			result <- err
			return
		}
		result <- c.Cmd.Wait()
	}()
	err := <-result
	if c.Cmd.Process != nil {
		_ = killGroup(c.Cmd.Process.Pid)
	}
	c.stopped = c.stopCause()
	c.release()
	return err
}

// Stopped says why the child was killed before it ended by itself, or nil if it was not; it is
// known once Execute has returned.
func (c *Child) Stopped() error { return c.stopped }

func (c *Child) stopCause() error {
	if c.ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(c.ctx)
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return errors.New("the CLI cancelled the call, or its connection to the language host closed")
	}
	return cause
}

// Failure describes how a child that did not succeed ended, for a message that names it as what
// (e.g. "the Node.js program /p/index.js"); it is nil when err is.
func (c *Child) Failure(what string, err error) error {
	if err == nil {
		return nil
	}
	if stopped := c.Stopped(); stopped != nil {
		return fmt.Errorf("%s was stopped before it finished: %w", what, stopped)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("%s could not be started: %w", what, err)
	}
	if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return fmt.Errorf("%s was killed by %v; what it wrote before is above", what, status.Signal())
	}
	return fmt.Errorf("%s exited with code %d without reporting an error to Pulumi; what it wrote before is above", what, exit.ExitCode())
}

// ExitCode is the code the child exited with, and whether it exited by itself.
func ExitCode(err error) (int, bool) {
	if err == nil {
		return 0, true
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return exit.ExitCode(), true
	}
	return 0, false
}

// RunResult is the answer to the CLI's Run for a program c ran, which returned err: done, bail
// (the program reported its error itself), or an error the CLI shows as the run's.
func (c *Child) RunResult(what string, err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	if code, exited := ExitCode(err); exited && code == ExitReported && c.Stopped() == nil {
		return &pulumirpc.RunResponse{Bail: true}
	}
	return &pulumirpc.RunResponse{Error: c.Failure(what, err).Error()}
}

// HostOutput is the host's own standard output and error, which the CLI shows, as writers a
// Child's Cmd copies into. Being no *os.File, they make exec give the child pipes of its own
// rather than the host's descriptors: a child that switches its output to non-blocking mode (node
// does) cannot switch the host's.
func HostOutput() (stdout, stderr io.Writer) {
	return writerOnly{os.Stdout}, writerOnly{os.Stderr}
}

type writerOnly struct{ w io.Writer }

func (o writerOnly) Write(p []byte) (int, error) { return o.w.Write(p) }
