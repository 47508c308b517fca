# lit configuration for bertc's FileCheck tests.
import os
import lit.formats

config.name = "bertc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".bertc", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.bertc_obj_root, "tests", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.environment["PATH"] = os.pathsep.join(
    [config.bertc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%models", os.path.join(config.bertc_src_root, "models")))
config.substitutions.append(("%python", "/usr/bin/python3"))

# The host CPU's features as bertc compiles for them with --cpu native
# (LLVM's names, as cpu-NAME: tests/lit/runtime/cpu-foreign-*.test). Not
# /proc/cpuinfo's flags: some hypervisors list fewer than CPUID reports.
import subprocess
summary = subprocess.run(
    [os.path.join(config.bertc_tools_dir, "bertc"), "compile",
     os.path.join(config.test_source_root, "runtime", "Inputs", "small.bertc"),
     "--task", "infer", "--target", "cpu", "--emit=summary"],
    capture_output=True, text=True, check=True).stdout
for line in summary.splitlines():
    if line.startswith("cpu_features:"):
        config.available_features.update("cpu-" + f for f in line.split(":", 1)[1].split())
