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

# The host CPU's flags as lit features (tests/lit/runtime/cpu-foreign-*.test).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                config.available_features.update(line.split(":", 1)[1].split())
                break
except OSError:
    pass
