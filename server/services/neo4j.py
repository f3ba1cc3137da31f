"""Neo4j Community 5.26 LTS from Maven Central, run by our small launcher with Bolt on loopback.

Maven Central carries the engine jars (`org.neo4j:neo4j`) but not the server tarball, so we fetch
the jars with Maven, compile `services/neo4j/Neo4jLauncher.java` against them and run it: the
same storage engine, Cypher runtime and Bolt server as the distribution.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from server.services.process import (
    ServiceError,
    ServiceStatus,
    probe,
    require_free,
    require_loopback,
    spawn,
    stop_owned,
    wait_ready,
)
from server.settings import REPO_ROOT, Settings

LAUNCHER_SOURCE = REPO_ROOT / "services" / "neo4j" / "Neo4jLauncher.java"
POM = REPO_ROOT / "services" / "neo4j" / "pom.xml"
MARKER = "Neo4jLauncher"

# The JVM options the server distribution's neo4j.conf sets by default. The --add-opens lines
# matter most: without them the page cache falls back to a slower path ("Reflection access to
# java.nio.DirectByteBuffer is not available") and the Bolt server to slower buffers.
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
)


def bolt_address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.neo4j_uri)
    return parts.hostname or "127.0.0.1", parts.port or 7687


def _paths(settings: Settings) -> tuple[Path, Path, Path, Path, Path]:
    home = settings.cache_dir / "neo4j" / settings.neo4j_version
    data = settings.data_dir / "neo4j"
    return home / "lib", home / "classes", data, data / "neo4j.pid", data / "launcher.log"


def home_dir(settings: Settings) -> Path:
    """NEO4J_HOME of our instance: the store lives in its data/databases."""
    return _paths(settings)[2] / "home"


def library_dir(settings: Settings) -> Path:
    return _paths(settings)[0]


def find_java() -> str:
    return _require("java", "install Java 17 (apt-get install openjdk-17-jre-headless)")


def _require(tool: str, hint: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise ServiceError(f"`{tool}` is not on PATH: {hint}")
    return found


def fetch(settings: Settings) -> Path:
    """Download the engine jars (once per version) and compile the launcher; returns classes dir."""
    lib, classes, *_ = _paths(settings)
    if not (lib / f"neo4j-{settings.neo4j_version}.jar").exists():
        mvn = _require("mvn", "install Maven (apt-get install maven) to fetch Neo4j")
        print(f"Fetching Neo4j {settings.neo4j_version} jars with Maven into {lib} ...", flush=True)
        partial = lib.with_name("lib.partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            f"-Dneo4j.version={settings.neo4j_version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServiceError(
                f"Maven could not fetch Neo4j:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        shutil.rmtree(lib, ignore_errors=True)
        partial.rename(lib)  # a crash mid-download leaves no half-filled lib/ behind
    stamp = classes / f"{MARKER}.class"
    if not stamp.exists() or stamp.stat().st_mtime < LAUNCHER_SOURCE.stat().st_mtime:
        javac = _require("javac", "install a JDK 17 (apt-get install openjdk-17-jdk-headless)")
        classes.mkdir(parents=True, exist_ok=True)
        cmd = [javac, "-cp", f"{lib}/*", "-d", str(classes), str(LAUNCHER_SOURCE)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServiceError(f"javac failed on the Neo4j launcher:\n{done.stderr[-3000:]}")
    return classes


def status(settings: Settings) -> ServiceStatus:
    *_, pid_file, _log = _paths(settings)
    host, port = bolt_address(settings)
    return probe("neo4j", f"bolt://{host}:{port}", host, port, pid_file, MARKER)


def _bolt_ready(settings: Settings) -> bool:
    import neo4j

    try:
        with neo4j.GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
        ) as driver:
            driver.verify_connectivity()
        return True
    except Exception:  # not up yet: any failure means "try again"
        return False


def start(settings: Settings, *, timeout: float = 180.0) -> ServiceStatus:
    """Start Neo4j unless our instance already runs; raises ServiceError saying what failed."""
    host, port = bolt_address(settings)
    require_loopback(host, "NEO4J_URI")
    current = status(settings)
    if current.running:
        return current
    require_free(host, port, "NEO4J_URI")
    if len(settings.neo4j_password) < 8:
        raise ServiceError("NEO4J_PASSWORD must have at least 8 characters")
    java = find_java()
    classes = fetch(settings)
    lib, _, data, pid_file, log = _paths(settings)
    env = {
        "NEO4J_HOME_DIR": str(home_dir(settings)),
        "NEO4J_BOLT_HOST": host if host != "localhost" else "127.0.0.1",
        "NEO4J_BOLT_PORT": str(port),
        "NEO4J_PASSWORD": settings.neo4j_password,
        "NEO4J_PAGECACHE_MB": str(settings.neo4j_pagecache_mb),
        "NEO4J_TX_MEMORY_MB": str(settings.neo4j_tx_memory_mb),
        "NEO4J_TX_LOG_RETENTION": settings.neo4j_tx_log_retention,
    }
    argv = [java, f"-Xms{settings.neo4j_heap}", f"-Xmx{settings.neo4j_heap}", *JVM_OPTIONS]
    argv += ["-cp", f"{classes}:{lib}/*", MARKER]
    data.mkdir(parents=True, exist_ok=True)
    proc = spawn(argv, env=env, log_file=log, pid_file=pid_file, cwd=data)
    wait_ready(proc, lambda: _bolt_ready(settings), name="Neo4j", log_file=log, timeout=timeout)
    return status(settings)


def stop(settings: Settings) -> bool:
    """Stop our Neo4j by its PID; returns False when it was not running."""
    *_, pid_file, _ = _paths(settings)
    return stop_owned(pid_file, MARKER, timeout=60)
