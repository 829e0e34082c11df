// pulumi-language-nodejs: the Node.js language host the Pulumi CLI starts to run a program.
//
// Pulumi's own language host is a module of its own,
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go module proxy
// this project can reach does not serve (403 "This module version is not available."). This is a
// small one in its place, written against the served github.com/pulumi/pulumi/sdk/v3. It does what
// the upstream host's Run does for a program on Node.js (sdk/nodejs/cmd/pulumi-language-nodejs/
// main.go: execRuntime, constructArguments, constructConfig, parseOptions), so the program itself
// runs in @pulumi/pulumi's own cmd/run, the real Node.js runtime:
//   - node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor --engine --organization --project
//     --root-directory --stack --pwd [--dry-run] --parallel <entry point> [args];
//   - PULUMI_CONFIG holds the config with keys as <namespace>:config:<name>,
//     PULUMI_CONFIG_SECRET_KEYS the secret keys, PULUMI_NODEJS_TYPESCRIPT=true unless the project's
//     runtime option typescript is false, PULUMI_NODEJS_TSCONFIG_PATH for the tsconfig option;
//   - exit code 32 means the program already told the user (Bail).
//
// Left out, and why: the monitor proxy and its pipes for synchronous invokes (the SDK uses them
// only when given --sync; without it every invoke is asynchronous, as in this project), and the
// methods the CLI needs only for `pulumi new`, `install`, `about` and code generation; each
// answers Unimplemented, which the CLI handles as an older host
// (sdk/go/common/resource/plugin/langruntime_plugin.go). GetRequiredPackages is one of them: the
// CLI then installs nothing ahead of the run, and loads each provider when a resource needs it.
//
// InstallDependencies installs nothing: it checks that @pulumi/pulumi resolves from the folder
// (for this project's plugin package, from the repository's node_modules) and says so, or asks
// for `npm install` there. The CLI calls it before it runs a plugin package, and an Unimplemented
// answer fails that (pkg/cmd/pulumi/packageworkspace InstallPluginAt).
//
// RunPlugin runs a source-based plugin package (a PulumiPlugin.yaml with runtime nodejs) as the
// upstream host does (sdk/nodejs/cmd/pulumi-language-nodejs/main.go RunPlugin): node
// <@pulumi/pulumi/cmd/run-plugin> <plugin folder> [args], in the request's working directory
// with the request's environment, its output streamed back over the RPC.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/google/shlex"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"ovh-failover/engine/langhost"
)

// exitAfterUserActionableMessage is @pulumi/pulumi cmd/run's
// nodeJSProcessExitedAfterLoggingUserActionableMessage.
const exitAfterUserActionableMessage = 32

func main() {
	langhost.Main(func(engineAddress string) pulumirpc.LanguageRuntimeServer {
		return &host{engineAddress: engineAddress}
	})
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

type nodeOptions struct {
	typescript   bool
	tsconfigPath string
	nodeArgs     string
}

// parseOptions reads the project's runtime options as the upstream host does; typescript
// defaults to true.
func parseOptions(options map[string]any) (nodeOptions, error) {
	opts := nodeOptions{typescript: true}
	if v, ok := options["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("typescript option must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := options["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("tsconfigpath option must be a string")
		}
		opts.tsconfigPath = s
	}
	if v, ok := options["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("nodeargs option must be a string")
		}
		opts.nodeArgs = s
	}
	return opts, nil
}

// locateModule finds a module (@pulumi/pulumi/cmd/run, …/run-plugin) as node resolves it from
// the program's directory.
func locateModule(node, module, programDir string) (string, error) {
	script := `try { console.log(require.resolve(process.argv[1])); } catch (e) { ` +
		`console.error(e.code === 'MODULE_NOT_FOUND' ? 'It looks like the Pulumi SDK has not been installed. Have you run pulumi install?' : e.message); process.exit(1); }`
	cmd := exec.Command(node, "-e", script, module)
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", errors.New(string(exitErr.Stderr))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	closer, stdout, _, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	dir := req.GetInfo().GetProgramDirectory()
	sdk, err := locateModule(node, "@pulumi/pulumi", dir)
	if err != nil {
		return fmt.Errorf("%s: run npm install there: %w", dir, err)
	}
	fmt.Fprintf(stdout, "%s: dependencies resolve (@pulumi/pulumi at %s); nothing installed\n", dir, sdk)
	return closer.Close()
}

// RunPlugin starts a nodejs plugin package. Unlike upstream, which appends the nodeargs option
// after the script (where node hands them to the script), they go before it, to node: a plugin
// written in TypeScript needs its loader there (nodeargs "--import tsx").
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	info := req.GetInfo()
	opts, err := parseOptions(info.GetOptions().AsMap())
	if err != nil {
		return err
	}
	runPlugin, err := locateModule(node, "@pulumi/pulumi/cmd/run-plugin", info.GetProgramDirectory())
	if err != nil {
		return err
	}
	args, err := shlex.Split(opts.nodeArgs)
	if err != nil {
		return err
	}
	args = append(args, runPlugin, info.GetProgramDirectory())
	args = append(args, req.GetArgs()...)

	env := req.GetEnv()
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfigPath != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfigPath)
	}
	cmd := exec.CommandContext(server.Context(), node, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("Program exited with non-zero exit code: %d", exitErr.ExitCode())
		}
		return fmt.Errorf("Problem executing plugin program (could not run language executor): %w", err)
	}
	return closer.Close()
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	fail := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fail(fmt.Errorf("could not find node on the $PATH: %w", err))
	}
	info := req.GetInfo()
	runPath, err := locateModule(node, "@pulumi/pulumi/cmd/run", info.GetProgramDirectory())
	if err != nil {
		return fail(err)
	}
	opts, err := parseOptions(info.GetOptions().AsMap())
	if err != nil {
		return fail(err)
	}

	args, err := shlex.Split(opts.nodeArgs)
	if err != nil {
		return fail(err)
	}
	args = append(args, runPath)
	flagIf := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagIf("monitor", req.GetMonitorAddress())
	flagIf("engine", h.engineAddress)
	flagIf("organization", req.GetOrganization())
	flagIf("project", req.GetProject())
	flagIf("root-directory", info.GetRootDirectory())
	flagIf("stack", req.GetStack())
	flagIf("pwd", info.GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagIf("parallel", strconv.Itoa(int(req.GetParallel())))
	args = append(args, info.GetEntryPoint())
	args = append(args, req.GetArgs()...)

	configVars := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return fail(err)
		}
		configVars[key.Namespace()+":config:"+key.Name()] = v
	}
	configJSON, err := json.Marshal(configVars)
	if err != nil {
		return fail(err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return fail(err)
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfigPath != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfigPath)
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = env
	// Wrapped, so that exec copies through a pipe: node may change the blocking mode of a file it
	// is handed (upstream runWithOutput).
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fail(fmt.Errorf("Problem executing program (could not run language executor): %w", err))
		}
		if exitErr.ExitCode() == exitAfterUserActionableMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return fail(fmt.Errorf("Program exited with non-zero exit code: %d", exitErr.ExitCode()))
	}
	return &pulumirpc.RunResponse{}, nil
}
