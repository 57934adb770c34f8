// The Python 3 interpreter itself, by absolute path, for tests that run Python scripts of their
// own (a pyenv shim on PATH is a bash script that needs more of PATH): what `python3` on PATH
// reports as sys.executable, or undefined where there is none.
import { execFileSync } from "child_process";
import { onPath } from "../../local/motoServer";

export const PYTHON3 = onPath("python3")
  ? execFileSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
    }).trim()
  : undefined;
