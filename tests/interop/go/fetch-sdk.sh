#!/usr/bin/env bash
# Unpack the AWS SDK for Go v2 (service/bedrockruntime and everything config.LoadDefaultConfig needs) into a
# GOPATH, from Debian's Go source packages, for tests/interop/test_go_sdk.py.
#
#   fetch-sdk.sh DEST [SUITE]
#
# Debian packages the SDK's source as golang-github-aws-aws-sdk-go-v2-dev (with smithy-go and go-jmespath),
# laid out as a GOPATH under /usr/share/gocode. This machine's release is too old to have Bedrock in it, so
# the packages come from another Debian suite (SUITE, default trixie: stable, so its version moves only with
# point releases; sid has the newest), through the Debian mirror this machine is already configured with. They
# are only downloaded and unpacked into DEST, never installed: they are architecture-independent source files.
# A finished DEST has a stamp file and is left alone, so a warm run costs nothing.
set -euo pipefail

dest=${1:?usage: fetch-sdk.sh DEST [SUITE]}
suite=${2:-trixie}
stamp="$dest/.complete-$suite"
[ -f "$stamp" ] && exit 0

# The main Debian archive this machine uses (not its security archive), from either apt source format.
mirror=$(
  {
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print ($2 ~ /^\[/) ? $3 : $2}'
  } | grep -v -e security -e '^$' | grep '/debian/\?$' | head -n 1
) || true
if [ -z "$mirror" ]; then
  echo "fetch-sdk.sh: no Debian archive found in this machine's apt sources" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/debs"
echo "deb $mirror $suite main" > "$work/sources.list"
# A private source list and index directory: the machine's own apt state is neither read nor changed.
apt_options=(
  -q
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists"
  -o Debug::NoLocking=true
  -o APT::Sandbox::User=root
)
apt-get "${apt_options[@]}" update > "$work/update.log" || { cat "$work/update.log" >&2; exit 1; }
(cd "$work/debs" && apt-get "${apt_options[@]}" download \
  golang-github-aws-aws-sdk-go-v2-dev golang-github-aws-smithy-go-dev golang-github-jmespath-go-jmespath-dev)

# Only what the test program compiles: the SDK's core and the services that config and credentials use.
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
src=./usr/share/gocode/src/github.com
for deb in "$work"/debs/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest.tmp" --exclude='*_test.go' --exclude='*/testdata' \
    "$src/aws/smithy-go" "$src/jmespath" "$src/aws/aws-sdk-go-v2/aws" "$src/aws/aws-sdk-go-v2/config" \
    "$src/aws/aws-sdk-go-v2/credentials" "$src/aws/aws-sdk-go-v2/feature/ec2/imds" \
    "$src/aws/aws-sdk-go-v2/internal" "$src/aws/aws-sdk-go-v2/service/internal" \
    "$src/aws/aws-sdk-go-v2/service/bedrockruntime" "$src/aws/aws-sdk-go-v2/service/signin" \
    "$src/aws/aws-sdk-go-v2/service/sso" "$src/aws/aws-sdk-go-v2/service/ssooidc" \
    "$src/aws/aws-sdk-go-v2/service/sts" 2> /dev/null || true  # each package holds only some of these
done
if [ ! -d "$dest.tmp/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/service/bedrockruntime" ]; then
  echo "fetch-sdk.sh: the $suite packages hold no service/bedrockruntime" >&2
  exit 1
fi
rm -rf "$dest"
mv "$dest.tmp/usr/share/gocode" "$dest"
rm -rf "$dest.tmp"
ls "$work/debs" > "$stamp"
