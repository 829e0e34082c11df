// pulumi-language-nodejs: the Node.js language host of this project, which the Pulumi CLI built by
// engine/build.ts finds beside itself and starts for a project or plugin of runtime nodejs.
//
// Pulumi publishes its own host as a Go module of its own, which the Go module proxy this project
// builds from does not serve; this one is written from the language host protocol
// (pulumirpc.LanguageRuntime in github.com/pulumi/pulumi/sdk/v3/proto/go) and from what
// @pulumi/pulumi's runners take. The host runs no JavaScript of its own: a program runs in
// node_modules/@pulumi/pulumi/cmd/run, a plugin in …/cmd/run-plugin, both from the @pulumi/pulumi
// installed beside it, so the SDK that runs a program is the one it was written for.
//
// What it answers:
//   - Run: node [nodeargs] <cmd/run> --monitor=… --engine=… --project=… --stack=…
//     [--organization=…] --root-directory=… --pwd=<program folder> --parallel=N [--dry-run]
//     <entry point> [args]; the stack's config in PULUMI_CONFIG and its secret keys in
//     PULUMI_CONFIG_SECRET_KEYS, as JSON. cmd/run's exit code 32 means it reported the error
//     itself: the answer is then a bail, with nothing to add.
//   - RunPlugin: node [nodeargs] <cmd/run-plugin> <plugin folder> [args], for a source-based
//     plugin package (PulumiPlugin.yaml, runtime nodejs), its output streamed back, its exit code
//     last. The nodeargs go to node, before the runner: a plugin in TypeScript names its loader
//     there ("--import tsx").
//   - InstallDependencies: installs nothing; says which @pulumi/pulumi the folder gets, or that
//     there is none and npm install is to be run. The CLI asks before it runs a plugin package.
//   - GetPluginInfo, Handshake: engine/langhost.
//
// The rest answers Unimplemented, which the CLI takes as an older host: GetRequiredPackages and
// GetRequiredPlugins (the engine then loads each provider when a resource needs it), About,
// GetProgramDependencies, GenerateProject, GenerateProgram, GeneratePackage, Pack, Link, and the
// runtime's synchronous invoke pipes, which @pulumi/pulumi uses only when given --sync.
//
// Every node this host starts is a langhost.Child: it goes, with whatever it started, when the
// CLI's call ends or the host does (and the host ends when the engine stops answering).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/google/shlex"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"ovh-failover/engine/langhost"
)

func main() {
	langhost.Main(func(s *langhost.Session) pulumirpc.LanguageRuntimeServer {
		return &nodeHost{Common: langhost.Common{Session: s}}
	})
}

type nodeHost struct {
	langhost.Common
}

// projectOptions are the runtime options of Pulumi.yaml (or PulumiPlugin.yaml) this host reads.
type projectOptions struct {
	// typescript: @pulumi/pulumi compiles .ts files itself (its vendored ts-node); on unless false.
	typescript bool
	// tsconfig: the tsconfig.json @pulumi/pulumi's TypeScript uses, relative to the program.
	tsconfig string
	// nodeargs: flags for node itself, split as a shell would.
	nodeArgs []string
}

func readProjectOptions(options *structpb.Struct) (projectOptions, error) {
	opts := projectOptions{typescript: true}
	set := options.AsMap()
	wrong := func(name, want string, got any) error {
		return fmt.Errorf("the nodejs runtime option %s is %v (%T) in the project file; it takes %s", name, got, got, want)
	}
	if v, ok := set["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, wrong("typescript", "true or false", v)
		}
		opts.typescript = b
	}
	if v, ok := set["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, wrong("tsconfig", "the path of a tsconfig.json", v)
		}
		opts.tsconfig = s
	}
	if v, ok := set["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, wrong("nodeargs", `node's flags in one string, such as "--import tsx"`, v)
		}
		args, err := shlex.Split(s)
		if err != nil {
			return opts, fmt.Errorf("the nodejs runtime option nodeargs (%q) does not split into flags: %w", s, err)
		}
		opts.nodeArgs = args
	}
	return opts, nil
}

// typescriptEnv is what tells @pulumi/pulumi's runners about the TypeScript options.
func (o projectOptions) typescriptEnv() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

func nodeBinary() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node is not on the language host's PATH (%s): install Node.js 20 or later, or add its bin folder to PATH", os.Getenv("PATH"))
	}
	return node, nil
}

// sdkInstall is the @pulumi/pulumi a folder's code gets.
type sdkInstall struct {
	dir     string
	version string
}

// findSDK finds the @pulumi/pulumi that require("@pulumi/pulumi") gets in a file of dir: the
// first node_modules/@pulumi/pulumi in dir or a folder above it, else one in a folder of
// NODE_PATH. whose names what needs it ("the program", "the plugin"), for the message.
func findSDK(dir, whose string) (sdkInstall, error) {
	var candidates []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			candidates = append(candidates, filepath.Join(d, "node_modules", "@pulumi", "pulumi"))
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	for _, p := range filepath.SplitList(os.Getenv("NODE_PATH")) {
		if p != "" {
			candidates = append(candidates, filepath.Join(p, "@pulumi", "pulumi"))
		}
	}
	for _, c := range candidates {
		text, err := os.ReadFile(filepath.Join(c, "package.json"))
		if err != nil {
			continue
		}
		var pkg struct{ Name, Version string }
		if err := json.Unmarshal(text, &pkg); err != nil || pkg.Name != "@pulumi/pulumi" {
			return sdkInstall{}, fmt.Errorf("%s is not @pulumi/pulumi's package.json: run npm install in %s", filepath.Join(c, "package.json"), dir)
		}
		return sdkInstall{dir: c, version: pkg.Version}, nil
	}
	return sdkInstall{}, fmt.Errorf("@pulumi/pulumi is not installed beside %s (%s): run npm install there", whose, dir)
}

// runner is the file of one of @pulumi/pulumi's runners (cmd/run, cmd/run-plugin).
func (s sdkInstall) runner(name string) (string, error) {
	file := filepath.Join(s.dir, "cmd", name, "index.js")
	if _, err := os.Stat(file); err != nil {
		return "", fmt.Errorf("@pulumi/pulumi %s at %s has no cmd/%s: it is incomplete or too old for this host; reinstall it with npm install", s.version, s.dir, name)
	}
	return file, nil
}

// programArgs are cmd/run's arguments for a program run (its usage: flags, then the program and
// the program's own arguments).
func programArgs(req *pulumirpc.RunRequest, engine string) []string {
	info := req.GetInfo()
	var args []string
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engine)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("stack", req.GetStack())
	flag("root-directory", info.GetRootDirectory())
	flag("pwd", info.GetProgramDirectory())
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	return append(append(args, entry), req.GetArgs()...)
}

// configEnv is the stack's config as @pulumi/pulumi reads it: PULUMI_CONFIG, a JSON object of
// "<namespace>:<key>" to the value's text, and PULUMI_CONFIG_SECRET_KEYS, the keys of secrets.
func configEnv(config map[string]string, secretKeys []string) ([]string, error) {
	if config == nil {
		config = map[string]string{}
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	values, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(values), "PULUMI_CONFIG_SECRET_KEYS=" + string(secrets)}, nil
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	failed := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	info := req.GetInfo()
	opts, err := readProjectOptions(info.GetOptions())
	if err != nil {
		return failed(err)
	}
	node, err := nodeBinary()
	if err != nil {
		return failed(err)
	}
	sdk, err := findSDK(info.GetProgramDirectory(), "the program")
	if err != nil {
		return failed(err)
	}
	run, err := sdk.runner("run")
	if err != nil {
		return failed(err)
	}
	config, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return failed(err)
	}

	args := append(append(append([]string{}, opts.nodeArgs...), run), programArgs(req, h.Session.EngineAddress())...)
	child := h.Session.Child(ctx, node, args...)
	child.Cmd.Dir = req.GetPwd()
	child.Cmd.Env = append(append(os.Environ(), config...), opts.typescriptEnv()...)
	child.Cmd.Stdout, child.Cmd.Stderr = langhost.HostOutput()
	what := fmt.Sprintf("the Node.js program %s", filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint()))
	return child.RunResult(what, child.Execute()), nil
}

func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	streams, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer streams.Close()

	info := req.GetInfo()
	opts, err := readProjectOptions(info.GetOptions())
	if err != nil {
		return err
	}
	node, err := nodeBinary()
	if err != nil {
		return err
	}
	sdk, err := findSDK(info.GetProgramDirectory(), "the plugin")
	if err != nil {
		return err
	}
	runPlugin, err := sdk.runner("run-plugin")
	if err != nil {
		return err
	}

	args := append(append([]string{}, opts.nodeArgs...), runPlugin, info.GetProgramDirectory())
	child := h.Session.Child(server.Context(), node, append(args, req.GetArgs()...)...)
	child.Cmd.Dir = req.GetPwd()
	// The request's variables are set over the host's own (a later duplicate wins).
	child.Cmd.Env = append(append(os.Environ(), req.GetEnv()...), opts.typescriptEnv()...)
	child.Cmd.Stdout, child.Cmd.Stderr = stdout, stderr
	runErr := child.Execute()
	what := fmt.Sprintf("the Node.js plugin %s", info.GetProgramDirectory())
	code, exited := langhost.ExitCode(runErr)
	if !exited || child.Stopped() != nil {
		return child.Failure(what, runErr)
	}
	// Its output first, then how it ended: the protocol's last message of a plugin run.
	if err := streams.Close(); err != nil {
		return err
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

func (h *nodeHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	streams, stdout, _, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer streams.Close()
	dir := req.GetInfo().GetProgramDirectory()
	sdk, err := findSDK(dir, "the program")
	if err != nil {
		return err
	}
	if _, err := sdk.runner("run"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s gets @pulumi/pulumi %s from %s; this host installs nothing (npm install does)\n", dir, sdk.version, sdk.dir)
	return streams.Close()
}
