#!/usr/bin/env bash
# The packaging checks (issue 14; docs/packaging.md), run by scripts/test.sh after the suites:
# every face installed the way its users install it, then its first program run with no path
# variable. Usage: check.sh BUILD_DIR [STAGE...]; stages: c dotnet java (default: all).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD_DIR [STAGE...]}" && pwd)
shift
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(c dotnet java)

# Every first program must run with nothing set.
unset TLSBRIDGE_LIBRARY_PATH LD_LIBRARY_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAILED: $*" >&2; failed=$((failed + 1)); }
# check WHAT COMMAND...: runs a command whose failure fails the check, output kept on failure.
check() {
  local what=$1 log
  shift
  log=$(mktemp -p "$work")
  if "$@" >"$log" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' "$log" >&2; fi
}

certs=$work/certs
bash "$top/c-tests/certs/make-certs.sh" "$certs" >/dev/null

# echo_pair SERVER CLIENT: SERVER (a program taking `server CERT KEY` like the C example) serves
# one echo, CLIENT (taking `client PORT CA`) runs against it; both must succeed. The client's
# output is also left in $work/client.out.
echo_pair() {
  local server=$1 client=$2 out=$work/server.$$.$RANDOM port=""
  "$server" server "$certs/server.pem" "$certs/server.key" >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    port=$(awk '$1 == "port" {print $2}' "$out")
    [ -n "$port" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$out"; wait $pid || true; return 1; }
  "$client" client "$port" "$certs/ca.pem" | tee "$work/client.out" \
    || { kill $pid 2>/dev/null; wait $pid || true; return 1; }
  wait $pid
}

# present ROOT PATH...: each PATH (relative to ROOT, or absolute) exists; names those that do not.
present() {
  local root=$1 missing=0 path
  shift
  for path in "$@"; do
    [[ $path = /* ]] || path=$root/$path
    [ -e "$path" ] || { echo "missing: $path"; missing=1; }
  done
  return $missing
}

# ---- C: cmake --install into a prefix; the example built with pkg-config and with CMake.
stage_c() {
  local prefix=$work/prefix ex=$work/c-example
  check "cmake --install into $prefix" cmake --install "$build" --prefix "$prefix"
  local libdir
  libdir=$(dirname "$(find "$prefix" -name libtlsbridge.so.1 -print -quit)")
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  local src=$prefix/share/doc/tlsbridge/example
  mkdir -p "$ex"
  check "installed files" present "$prefix" "$libdir/libtlsbridge.so.1.0.0" "$libdir/libtlsbridge.so.1" \
    "$libdir/libtlsbridge.so" "$libdir/libtlsbridge.a" include/tlsbridge.h bin/tlsbridge share/man/man1/tlsbridge.1 \
    share/doc/tlsbridge/c.md "$libdir/pkgconfig/tlsbridge.pc" "$libdir/cmake/tlsbridge/tlsbridge-config.cmake" \
    "$libdir/cmake/tlsbridge/tlsbridge-config-version.cmake"
  check "installed tlsbridge(1) renders" bash -c "man -l '$prefix/share/man/man1/tlsbridge.1' | grep -q 'tlsbridge serve'"
  check "installed tlsbridge program runs" "$prefix/bin/tlsbridge" version
  check "pkg-config: version is the library's" test "tlsbridge $(pkg-config --modversion tlsbridge)," = \
    "$("$prefix/bin/tlsbridge" version | awk '{print $1, $2}')"
  check "pkg-config: shared build" cc -o "$ex/pc-shared" "$src/tlsb_example.c" $(pkg-config --cflags --libs tlsbridge) -Wl,-rpath,"$libdir"
  check "pkg-config: static build (Requires.private)" cc -o "$ex/pc-static" "$src/tlsb_example.c" $(pkg-config --cflags tlsbridge) \
    -Wl,-Bstatic $(pkg-config --static --libs tlsbridge) -Wl,-Bdynamic
  check "pkg-config: static build needs no libtlsbridge.so.1 nor libssl.so.3" bash -c \
    "! ldd '$ex/pc-static' | grep -E 'libtlsbridge|libssl|libcrypto'"
  check "CMake: find_package(tlsbridge 1) shared" bash -c "cmake -S '$src' -B '$ex/cm-shared' -DCMAKE_PREFIX_PATH='$prefix' \
    -DCMAKE_BUILD_RPATH='$libdir' && cmake --build '$ex/cm-shared'"
  check "CMake: find_package(tlsbridge 1) static" bash -c "cmake -S '$src' -B '$ex/cm-static' -DCMAKE_PREFIX_PATH='$prefix' \
    -DTLSB_EXAMPLE_STATIC=ON && cmake --build '$ex/cm-static'"
  mkdir -p "$ex/v2"
  printf 'cmake_minimum_required(VERSION 3.16)\nproject(v2 LANGUAGES C)\nfind_package(tlsbridge 2 REQUIRED)\n' >"$ex/v2/CMakeLists.txt"
  check "CMake: SameMajorVersion refuses find_package(tlsbridge 2)" bash -c \
    "! cmake -S '$ex/v2' -B '$ex/v2/build' -DCMAKE_PREFIX_PATH='$prefix'"
  check "C example: pkg-config shared server, CMake shared client" echo_pair "$ex/pc-shared" "$ex/cm-shared/tlsb_example"
  check "CMake: static build needs no libtlsbridge.so.1" bash -c "! ldd '$ex/cm-static/tlsb_example' | grep libtlsbridge"
  check "C example: CMake static server, pkg-config static client" echo_pair "$ex/cm-static/tlsb_example" "$ex/pc-static"
  unset PKG_CONFIG_PATH
}

# The C example's server, for the other faces' clients (built by stage c).
example_server() {
  [ -x "$work/c-example/pc-shared" ] || stage_c >/dev/null
  echo "$work/c-example/pc-shared"
}

# dotnet_app DIR REFERENCE: a fresh console app (packaging/dotnet-app) in DIR whose csproj holds
# REFERENCE (a PackageReference or a ProjectReference item).
dotnet_app() {
  mkdir -p "$1"
  cp "$top/packaging/dotnet-app/Program.cs" "$1/"
  cat >"$1/App.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <AssemblyName>App</AssemblyName>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
    $2
  </ItemGroup>
</Project>
CSPROJ
}

# ---- .NET: the .nupkg from a local folder feed, and a ProjectReference build; run with no
# environment variable.
stage_dotnet() {
  local server feed=$build/dotnet/packages app=$work/dotnet-package ref=$work/dotnet-projectref
  server=$(example_server)
  export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 NUGET_PACKAGES=$work/nuget-packages
  check "dotnet pack (target tlsbridge_nupkg)" cmake --build "$build" --target tlsbridge_nupkg
  local nupkg=$feed/TlsBridge.$(awk '{print $2}' <<<"$("$build/bin/tlsbridge" version)" | tr -d ,).nupkg
  check "nupkg contents" bash -c "unzip -Z1 '$nupkg' | sort | tee /dev/stderr | grep -cxE \
    'lib/net10.0/TlsBridge.dll|lib/net10.0/TlsBridge.xml|README.md|runtimes/linux-x64/native/libtlsbridge.so.1' | grep -qx 4"
  dotnet_app "$app" '<PackageReference Include="TlsBridge" Version="*" />'
  cat >"$app/nuget.config" <<CONFIG
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
CONFIG
  check "fresh console app: restore and build from the local feed" dotnet build "$app/App.csproj" -v:q -o "$app/out"
  check "fresh console app (package) runs with no path variable" echo_pair "$server" "$app/out/App"
  check "fresh console app (package) loaded the package's libtlsbridge.so.1" \
    grep -E "^library: ($NUGET_PACKAGES/tlsbridge/|$app/out/).*runtimes/linux-x64/native/libtlsbridge.so.1\$" "$work/client.out"
  dotnet_app "$ref" "<ProjectReference Include=\"$top/dotnet/TlsBridge.csproj\" />"
  check "ProjectReference build" dotnet build "$ref/App.csproj" -v:q -o "$ref/out" --artifacts-path "$ref/artifacts" \
    -p:TlsBridgeNativeLibrary="$build/lib/libtlsbridge.so.1"
  check "ProjectReference build copies libtlsbridge.so.1" test -f "$ref/out/libtlsbridge.so.1"
  check "ProjectReference app runs with no path variable" echo_pair "$server" "$ref/out/App"
  check "ProjectReference app loaded the copy beside it" grep -x "library: $ref/out/libtlsbridge.so.1" "$work/client.out"
}

# ---- Java: the Maven artifacts; a program with only the jar on the class path, no path property.
stage_java() {
  local server version maven app=$work/java-app
  server=$(example_server)
  version=$("$build/bin/tlsbridge" version | awk '{print $2}' | tr -d ,)
  maven=$build/java/maven/org/tlsbridge/tlsbridge/$version
  check "Maven artifacts (target tlsbridge_maven; javadoc with doclint)" cmake --build "$build" --target tlsbridge_maven
  check "Maven artifacts present" present "$maven" "tlsbridge-$version.jar" "tlsbridge-$version.pom" \
    "tlsbridge-$version-sources.jar" "tlsbridge-$version-javadoc.jar"
  check "pom names org.tlsbridge:tlsbridge:$version" bash -c "grep -q '<groupId>org.tlsbridge</groupId>' '$maven/tlsbridge-$version.pom' \
    && grep -q '<artifactId>tlsbridge</artifactId>' '$maven/tlsbridge-$version.pom' && grep -q '<version>$version</version>' '$maven/tlsbridge-$version.pom'"
  check "sources jar holds the sources" bash -c "unzip -Z1 '$maven/tlsbridge-$version-sources.jar' | grep -qx org/tlsbridge/TlsSocket.java"
  check "javadoc jar holds the API pages" bash -c "unzip -Z1 '$maven/tlsbridge-$version-javadoc.jar' | grep -qx org/tlsbridge/TlsSocket.html"
  local jar=$maven/tlsbridge-$version.jar
  check "jar: natives for this platform, no demo" bash -c "unzip -Z1 '$jar' | grep -qx 'META-INF/native/linux-$(uname -m)/libtlsbridge_jni.so' \
    && unzip -Z1 '$jar' | grep -qx 'META-INF/native/linux-$(uname -m)/libtlsbridge.so.1' && ! unzip -Z1 '$jar' | grep -q demo/"
  check "jar: module org.tlsbridge" bash -c "jar --describe-module --file '$jar' | grep -q '^org.tlsbridge@$version automatic'"
  mkdir -p "$app/tmp"
  # The program as its user runs it: java's source launcher, the jar alone on the class path.
  printf '#!/bin/sh\nexec java -Djava.io.tmpdir=%s -cp %s %s "$@"\n' "$app/tmp" "$jar" "$top/packaging/java-app/App.java" >"$app/run"
  chmod +x "$app/run"
  check "Java program with only the jar runs with no path property" echo_pair "$server" "$app/run"
  check "Java program loaded the jar's natives" grep -q "^library: jar:META-INF/native/" "$work/client.out"
  check "the extracted natives are removed once loaded" bash -c "[ -z \"\$(ls -A '$app/tmp')\" ]"
}

for stage in "${stages[@]}"; do
  "stage_$stage"
done
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
