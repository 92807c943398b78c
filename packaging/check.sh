#!/usr/bin/env bash
# The packaging checks (issue 14; docs/packaging.md), run by scripts/test.sh after the suites:
# every face installed the way its users install it, then its first program run with no path
# variable. Usage: check.sh BUILD_DIR [STAGE...]; stages: c dotnet java deb static (default: all).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD_DIR [STAGE...]}" && pwd)
shift
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(c dotnet java deb static)

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

[ -x "$build/bin/tlsbridge" ] || { echo "check.sh: $build is not built (bash scripts/setup.sh $build)" >&2; exit 2; }
# The version the build makes, e.g. 1.0.0 (file names of the artifacts carry it).
version=$("$build/bin/tlsbridge" version | awk '{print $2}' | tr -d ,)
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
  timeout 120 "$client" client "$port" "$certs/ca.pem" | tee "$work/client.out" \
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
  check "installed files" present "$prefix" "$libdir/libtlsbridge.so.$version" "$libdir/libtlsbridge.so.1" \
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
  local nupkg=$feed/TlsBridge.$version.nupkg
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
  local server maven app=$work/java-app
  server=$(example_server)
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

# ---- Debian: the three .debs from a /usr build, their files and dependencies; unpacked into a
# clean root (dpkg -x), where the C example is built against them with pkg-config and CMake.
stage_deb() {
  local tree=$work/deb-build debs=$work/debs root=$work/deb-root arch ex=$work/deb-example server
  server=$(example_server)
  check "configure and build a /usr tree for the packages" bash -c "cmake -S '$top' -B '$tree' -DCMAKE_INSTALL_PREFIX=/usr \
    -DTLSB_JAVA=OFF -DTLSB_DOTNET=OFF >/dev/null && cmake --build '$tree' -j2 --target tlsbridge tlsbridge_static tlsbridge_tool"
  check "cpack -G DEB" bash -c "cd '$tree' && cpack -G DEB -B '$debs'"
  arch=$(dpkg --print-architecture)
  local multiarch lib dev tool
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  lib=$debs/libtlsbridge1_${version}_$arch.deb dev=$debs/libtlsbridge-dev_${version}_$arch.deb tool=$debs/tlsbridge_${version}_$arch.deb
  check "three packages" present / "$lib" "$dev" "$tool"
  # files DEB EXPECTED...: the package's regular files and links are exactly EXPECTED.
  files() {
    local deb=$1
    shift
    diff <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort) <(printf '%s\n' "$@" | sort)
  }
  local L=/usr/lib/$multiarch
  check "libtlsbridge1 files" files "$lib" $L/libtlsbridge.so.1 $L/libtlsbridge.so.$version
  check "libtlsbridge-dev files" bash -c "$(declare -f files); files '$dev' /usr/include/tlsbridge.h $L/libtlsbridge.so $L/libtlsbridge.a \
    $L/pkgconfig/tlsbridge.pc $L/cmake/tlsbridge/tlsbridge-config.cmake $L/cmake/tlsbridge/tlsbridge-config-version.cmake \
    $L/cmake/tlsbridge/tlsbridge-targets.cmake $L/cmake/tlsbridge/tlsbridge-targets-relwithdebinfo.cmake \
    /usr/share/doc/tlsbridge/example/CMakeLists.txt /usr/share/doc/tlsbridge/example/tlsb_example.c \
    \$(cd '$top' && ls README.md docs/*.md | sed 's|^docs/||; s|^|/usr/share/doc/tlsbridge/|')"
  check "tlsbridge files" files "$tool" /usr/bin/tlsbridge /usr/share/man/man1/tlsbridge.1
  check "libtlsbridge1 depends on libc6 and libssl3" bash -c "dpkg-deb -f '$lib' Depends | grep -q 'libssl3 (>= 3' \
    && dpkg-deb -f '$lib' Depends | grep -q 'libc6 (>='"
  check "libtlsbridge-dev depends on libtlsbridge1 (= $version) and libssl-dev" bash -c \
    "dpkg-deb -f '$dev' Depends | grep -q 'libtlsbridge1 (= $version)' && dpkg-deb -f '$dev' Depends | grep -q libssl-dev && dpkg-deb -f '$dev' Depends | grep -q libpsl-dev"
  check "tlsbridge depends on libtlsbridge1 and libssl3" bash -c \
    "dpkg-deb -f '$tool' Depends | grep -q 'libtlsbridge1 (>= $version)' && dpkg-deb -f '$tool' Depends | grep -q libssl3"
  check "libtlsbridge1: shlibs and the ldconfig trigger" bash -c "dpkg-deb -I '$lib' shlibs | grep -qx 'libtlsbridge 1 libtlsbridge1 (>= $version)' \
    && dpkg-deb -I '$lib' triggers | grep -qx 'activate-noawait ldconfig'"
  check "libtlsbridge1: sections" bash -c "[ \"\$(dpkg-deb -f '$lib' Section)\" = libs ] && [ \"\$(dpkg-deb -f '$dev' Section)\" = libdevel ]"
  mkdir -p "$root" "$ex"
  for deb in "$lib" "$dev" "$tool"; do dpkg -x "$deb" "$root"; done
  check "installed program runs from the unpacked root" env LD_LIBRARY_PATH="$root$L" "$root/usr/bin/tlsbridge" version
  check "C example against the packages: pkg-config" bash -c "PKG_CONFIG_PATH='$root$L/pkgconfig' && export PKG_CONFIG_PATH \
    && cc -o '$ex/pc' '$root/usr/share/doc/tlsbridge/example/tlsb_example.c' \$(pkg-config --cflags --libs tlsbridge) -Wl,-rpath,'$root$L'"
  check "C example against the packages: CMake" bash -c "cmake -S '$root/usr/share/doc/tlsbridge/example' -B '$ex/cm' \
    -DCMAKE_PREFIX_PATH='$root/usr' -DCMAKE_BUILD_RPATH='$root$L' && cmake --build '$ex/cm'"
  check "C example against the packages runs" echo_pair "$ex/cm/tlsb_example" "$ex/pc"
  check "... on the packaged library" bash -c "ldd '$ex/pc' | grep -q '$root$L/libtlsbridge.so.1'"
}

# ---- Self-contained: -DTLSB_OPENSSL_STATIC=ON; the C suite on it (test_side_by_side: beside
# the system libssl in one process), its exports and imports, and the .NET face next to SslStream.
stage_static() {
  local tree=$work/static-build limbo lib
  limbo=$(sed -n 's/^TLSB_LIMBO_JSON:FILEPATH=//p' "$build/CMakeCache.txt")
  check "configure and build with -DTLSB_OPENSSL_STATIC=ON" bash -c "cmake -S '$top' -B '$tree' -DTLSB_OPENSSL_STATIC=ON \
    -DTLSB_JAVA=OFF -DTLSB_DOTNET=OFF \${limbo:+-DTLSB_LIMBO_JSON='$limbo'} >/dev/null && cmake --build '$tree' -j2"
  lib=$tree/lib/libtlsbridge.so.1
  check "static build: needs no libssl.so.3 nor libcrypto.so.3" bash -c "! readelf -d '$lib' | grep NEEDED | grep -E 'libssl|libcrypto'"
  check "static build: exports only tlsb_* (no OpenSSL symbol)" bash -c \
    "[ -z \"\$(nm -D --defined-only '$lib' | awk '\$2 != \"A\" && \$3 !~ /^tlsb_/')\" ]"
  check "static build: C suite, test_side_by_side included" bash -c "cd '$tree' && ctest -j2 --output-on-failure"
  local tests=$build/dotnet-tests/TlsBridge.Tests.dll
  if [ -f "$tests" ]; then
    check "static build: .NET face next to SslStream in one process" env TLSBRIDGE_LIBRARY_PATH="$lib" TLSB_TEST_CERTS="$certs" \
      dotnet test "$tests" --filter "FullyQualifiedName~SslStreamInterop"
  else
    bad "static build: .NET face next to SslStream: $tests is not built"
  fi
}

for stage in "${stages[@]}"; do
  "stage_$stage"
done
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
