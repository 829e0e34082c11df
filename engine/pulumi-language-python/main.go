// pulumi-language-python: the Python language host the Pulumi CLI starts for a project of
// runtime python, so that a Python program can use the components through their plugin package.
//
// Pulumi's own host is a module of its own,
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go module proxy
// this project can reach does not serve (403). This is a small one in its place, written against
// the served github.com/pulumi/pulumi/sdk/v3 and pkg/v3:
//   - GeneratePackage: the SDK from a package schema, by pkg/v3/codegen/python (what
//     `pulumi package add` and `package gen-sdk` ask for);
//   - Link: the generated SDK's folder added to the program's requirements.txt;
//   - InstallDependencies: `python -m pip install -r requirements.txt` in the project's
//     virtualenv (the runtime option virtualenv), which takes pip's own settings (PIP_*) from
//     the environment;
//   - Run: runner.py (embedded), in the project's Python, with the arguments the upstream host
//     gives pulumi-language-python-exec (sdk/python/cmd/pulumi-language-python/main.go Run).
//
// The rest answers Unimplemented, which the CLI handles as an older host
// (sdk/go/common/resource/plugin/langruntime_plugin.go): GetRequiredPackages, so the engine loads
// each provider when a resource needs it; About, GetProgramDependencies, GenerateProject,
// GenerateProgram, Pack, RunPlugin (a plugin written in Python).
package main

import (
	_ "embed"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"ovh-failover/engine/langhost"
)

//go:embed runner.py
var runner string

// exitAfterUserActionableMessage: runner.py's EXIT_AFTER_MESSAGE.
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

// pythonOf is the project's Python: <virtualenv>/bin/python when the runtime option virtualenv
// names one (relative to the project's folder), else python3 on the PATH.
func pythonOf(info *pulumirpc.ProgramInfo) (string, error) {
	if venv, ok := info.GetOptions().AsMap()["virtualenv"]; ok {
		dir, isString := venv.(string)
		if !isString {
			return "", errors.New("virtualenv option must be a string")
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(info.GetRootDirectory(), dir)
		}
		python := filepath.Join(dir, "bin", "python")
		if _, err := os.Stat(python); err != nil {
			return "", fmt.Errorf("the virtualenv %s has no bin/python: %w", dir, err)
		}
		return python, nil
	}
	return exec.LookPath("python3")
}

func (h *host) GeneratePackage(ctx context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, err
	}
	cached := schema.NewCachedLoader(loader)
	pkg, diags, err := schema.BindSpec(spec, cached, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	rpcDiagnostics := plugin.HclDiagnosticsToRPCDiagnostics(diags)
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiagnostics}, nil
	}
	files, err := python.GeneratePackage("pulumi-language-python", pkg, req.GetExtraFiles(), cached)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		out := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(out, data, 0o600); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiagnostics}, nil
}

// Link adds each SDK's folder, relative to the project, to requirements.txt (once).
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	file := filepath.Join(req.GetInfo().GetProgramDirectory(), "requirements.txt")
	text, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	have := map[string]bool{}
	scanner := bufio.NewScanner(strings.NewReader(string(text)))
	for scanner.Scan() {
		have[strings.TrimSpace(scanner.Text())] = true
	}
	out := string(text)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	var imports []string
	for _, p := range req.GetPackages() {
		line := filepath.ToSlash(p.GetPath())
		if !strings.HasPrefix(line, ".") && !filepath.IsAbs(line) {
			line = "./" + line
		}
		if !have[line] {
			out += line + "\n"
		}
		// pkg/codegen/python's default module name: pulumi_<name>, dashes as underscores.
		module := "pulumi_" + strings.ReplaceAll(p.GetPackage().GetName(), "-", "_")
		imports = append(imports, "  import "+module)
	}
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		return nil, err
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: "You can then import the SDK in your Python code with:\n\n" + strings.Join(imports, "\n") + "\n",
	}, nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	info := req.GetInfo()
	requirements := filepath.Join(info.GetProgramDirectory(), "requirements.txt")
	if _, err := os.Stat(requirements); errors.Is(err, os.ErrNotExist) {
		return closer.Close()
	}
	python, err := pythonOf(info)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(server.Context(), python, "-m", "pip", "install", "-r", "requirements.txt")
	cmd.Dir = info.GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	fmt.Fprintf(stdout, "$ %s -m pip install -r requirements.txt\n", python)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pip install -r requirements.txt: %w", err)
	}
	return closer.Close()
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	fail := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	info := req.GetInfo()
	python, err := pythonOf(info)
	if err != nil {
		return fail(err)
	}
	args := []string{"-u", "-c", runner}
	flagIf := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagIf("monitor", req.GetMonitorAddress())
	flagIf("engine", h.engineAddress)
	flagIf("project", req.GetProject())
	flagIf("stack", req.GetStack())
	flagIf("organization", req.GetOrganization())
	flagIf("root_directory", info.GetRootDirectory())
	flagIf("pwd", info.GetProgramDirectory())
	flagIf("parallel", strconv.Itoa(int(req.GetParallel())))
	if req.GetDryRun() {
		args = append(args, "--dry_run")
	}
	// The entry point is "." for a project without main: the program's folder, run by its
	// __main__.py.
	args = append(args, filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint()))
	args = append(args, req.GetArgs()...)

	configVars := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return fail(err)
		}
		configVars[key.Namespace()+":"+key.Name()] = v
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
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
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
