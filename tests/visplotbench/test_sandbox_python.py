"""What a hostile Python program cannot do: one sandbox property per test, checked on the host."""

import os
import sys
import time
import uuid
from pathlib import Path

import pytest
from visplotbench.engine import Limits, RenderJob, RenderPool, RenderStatus

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\n"


@pytest.fixture
def run(pool, need):
    need("python")
    return lambda source, **kw: pool.render(RenderJob("python", source, **kw))


def _try_read(path: str) -> str:
    return (
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        f"try:\n    print('READ', open({path!r}, 'rb').read()[:200])\n"
        "except OSError as exc:\n    print('REFUSED', type(exc).__name__)\n"
    )


def test_secret_file_on_the_host_cannot_be_read(run, secret):
    result = run(_try_read(str(secret)))
    assert result.status is RenderStatus.OK, result.error
    assert "REFUSED" in result.stdout and "TOP-SECRET" not in result.stdout + result.stderr


@pytest.mark.parametrize("path", ["/etc/shadow", "/root/.bashrc", "/root/.ssh/id_rsa"])
def test_system_secrets_cannot_be_read(run, path):
    result = run(_try_read(path))
    assert "REFUSED" in result.stdout and "READ" not in result.stdout.replace("REFUSED", "")


def test_the_projects_own_files_cannot_be_read(run):
    project_file = Path(__file__).resolve()  # the tests are not part of what the sandbox mounts
    result = run(_try_read(str(project_file)))
    assert "REFUSED" in result.stdout and "one sandbox property" not in result.stdout


def test_other_jobs_and_home_directories_are_not_there(run):
    source = (
        "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        "print('LIST', os.listdir('/job') == [os.path.basename(os.getcwd())], os.path.exists('/home'),"
        " os.path.exists('/root/.ssh'))\n"
    )
    result = run(source)
    assert result.status is RenderStatus.OK, result.error
    assert "LIST True False False" in result.stdout


def test_writes_outside_the_job_dir_do_not_reach_the_host(run, tmp_path):
    targets = [
        tmp_path / "escaped.txt",
        Path(sys.prefix) / f"escaped-{uuid.uuid4().hex}.pth",
        Path("/tmp") / f"vpb-escape-{uuid.uuid4().hex}",
    ]
    source = "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    for target in targets:
        source += (
            f"try:\n    os.makedirs({str(target.parent)!r}, exist_ok=True)\n"
            f"    open({str(target)!r}, 'w').write('x')\n    print('WROTE')\n"
            "except OSError as exc:\n    print('REFUSED', exc)\n"
        )
    result = run(source)
    assert result.status is RenderStatus.OK, result.error
    for target in targets:
        assert not target.exists(), target


def test_network_to_a_host_port_is_refused(run, listener):
    source = (
        "import socket\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {listener.port}), timeout=2)\n    print('CONNECTED')\n"
        "except OSError as exc:\n    print('REFUSED', exc)\n"
    )
    result = run(source)
    time.sleep(0.3)  # give the listener's accept loop a chance to see anything that got through
    assert "REFUSED" in result.stdout and "CONNECTED" not in result.stdout
    assert listener.connections == 0


def test_shell_command_cannot_touch_the_host(run, tmp_path):
    marker = tmp_path / "shell-was-here"
    source = (
        "import subprocess\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        f"print(subprocess.run(['sh', '-c', 'mkdir -p {tmp_path} && touch {marker}']).returncode)\n"
    )
    run(source)
    assert not marker.exists()


def test_fork_bomb_is_stopped_and_the_next_job_renders(run):
    source = "import os\nwhile True:\n    os.fork()\n"
    result = run(source, limits=Limits(wall_s=10))
    assert result.status in (RenderStatus.ERROR, RenderStatus.TIMEOUT)
    assert "process" in result.error.lower() or "Resource temporarily unavailable" in result.error
    assert run(PLOT).status is RenderStatus.OK


def test_memory_bomb_is_an_error_and_the_next_job_renders(run):
    source = "import numpy as np\nbig = np.ones(10 * 1024**3 // 8)\nprint(big.sum())\n"
    result = run(source)
    assert result.status is RenderStatus.ERROR
    assert "MemoryError" in result.error
    assert run(PLOT).status is RenderStatus.OK


def test_output_flood_is_capped_and_the_next_job_renders(run):
    source = "while True:\n    print('spam ' * 200)\n"
    result = run(source, limits=Limits(wall_s=20, output_bytes=10_000))
    assert result.status is RenderStatus.ERROR and "OutputLimitExceeded" in result.error
    assert len(result.stdout) <= 10_000
    assert run(PLOT).status is RenderStatus.OK


def test_environment_is_scrubbed(need, monkeypatch):
    monkeypatch.setenv("VPB_HOST_SECRET", "hunter2-env")
    with RenderPool() as fresh:  # workers started after the variable was set
        need("python")
        source = (
            "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint('ENV', dict(os.environ))\n"
        )
        result = fresh.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK, result.error
    assert "hunter2-env" not in result.stdout and "VPB_HOST_SECRET" not in result.stdout
    assert "'HOME': '/tmp'" in result.stdout


def _host_processes_with(token: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_background_processes_are_gone_when_the_job_returns(run):
    token = f"{uuid.uuid4().int % 10**6}.5"  # a unique sleep duration to find them on the host
    source = (
        "import os, subprocess\nimport matplotlib.pyplot as plt\n"
        f"subprocess.Popen(['sleep', '{token}'], start_new_session=True)\n"
        f"subprocess.Popen(['sh', '-c', 'nohup sleep {token} >/dev/null 2>&1 &'])\n"
        "if os.fork() == 0:\n    os.setsid()\n"
        f"    os.execvp('sleep', ['sleep', '{token}'])\n"
        "plt.plot([1, 2])\n"
    )
    result = run(source)
    assert result.status is RenderStatus.OK, result.error
    assert _host_processes_with(token) == []


def test_a_job_cannot_plant_files_or_modules_for_later_jobs(run):
    plant = (
        "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        "for d in ('/job', '/tmp', '.'):\n"
        "    try:\n        open(os.path.join(d, 'vpb_planted.py'), 'w').write('PLANTED = True')\n"
        "    except OSError:\n        pass\n"
    )
    check = (
        "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
        "try:\n    import vpb_planted\n    print('PLANTED')\nexcept ImportError:\n    print('CLEAN')\n"
        "print('LEFT', [d for d in ('/job', '/tmp') if os.path.exists(os.path.join(d, 'vpb_planted.py'))])\n"
    )
    for _ in range(2):  # both workers of the pool
        assert run(plant).status is RenderStatus.OK
    results = [run(check) for _ in range(2)]
    assert all("CLEAN" in r.stdout and "LEFT []" in r.stdout for r in results), [r.stdout for r in results]
