#!/bin/sh
# Builds the calc example: its git repository and the mailing list of patch
# series posted against it, every byte reproducible (fixed names, dates and
# Message-IDs), so commit ids are the same on every machine.
#
# usage: make-list.sh [WORKDIR]
#   With WORKDIR: writes WORKDIR/calc.git (bare, master only: the tree the
#   demo guards), WORKDIR/work (each series on a branch) and
#   WORKDIR/list.mbox. Without: works in a temporary directory and writes
#   list.mbox beside this script.
#
# master: 1. calc: integer arithmetic with TAP tests (2023-11-01)
#         2. calc: return 0 on division by zero      (2023-11-08)
# Series, in posting order; README.md says the verdict each should get.
#   (a) calc: add calc_pow           2 patches + cover, base-commit master,
#                                    then a Reviewed-by reply to the cover
#   (b) calc: multiply by repeated addition   breaks test "mul negative"
#   (c) calc: add calc_mod           changes src/ without a test
#   (d) calc: round calc_div toward negative infinity
#                                    written on master~1, conflicts with master
#   (e) calc: add calc_abs v1 (does not build), then v2 in reply to v1
#   (f) calc: add calc_clamp         base-commit master~1
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then
    mkdir -p "$1"
    work=$(cd "$1" && pwd)
    mbox=$work/list.mbox
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mbox=$here/list.mbox
fi
rm -rf "$work/work" "$work/calc.git" "$work/out" "$mbox.new"

# Nothing from the caller's git configuration or environment may change the
# commits or the mails.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$work" LC_ALL=C TZ=UTC

person() { # NAME EMAIL: who writes and commits the next changes
    export GIT_AUTHOR_NAME="$1" GIT_AUTHOR_EMAIL="$2"
    export GIT_COMMITTER_NAME="$1" GIT_COMMITTER_EMAIL="$2"
}

at() { # UNIX-TIME: when the next commit or mail is made
    export GIT_AUTHOR_DATE="@$1 +0000" GIT_COMMITTER_DATE="@$1 +0000"
}

commit() { # UNIX-TIME SUBJECT BODY
    at "$1"
    git add -A
    printf '%s\n\n%s\n' "$2" "$3" | git commit -q -s -F -
}

edit() { # before|after|replace FILE TEXT < LINES: edits at the first line containing TEXT
    cat > "$work/lines"
    MODE=$1 PAT=$3 LINES=$work/lines awk '
        function put(  line) { while ((getline line < ENVIRON["LINES"]) > 0) print line }
        !done && index($0, ENVIRON["PAT"]) {
            done = 1
            if (ENVIRON["MODE"] == "before") { put(); print }
            else if (ENVIRON["MODE"] == "after") { print; put() }
            else put()
            next
        }
        { print }
        END { if (!done) { print "make-list.sh: no line with " ENVIRON["PAT"] > "/dev/stderr"; exit 1 } }
    ' "$2" > "$2.new"
    mv "$2.new" "$2"
}

describe() { # BRANCH TEXT: the cover letter's subject (first paragraph) and blurb
    git config "branch.$1.description" "$2"
}

post() { # NAME UNIX-TIME RANGE [format-patch options]: mails a series at UNIX-TIME
    name=$1 time=$2 range=$3
    shift 3
    at "$time"
    git format-patch -q --thread=shallow --to=calc@lists.example.org \
        -o "$work/out/$name" "$@" "$range"
    # format-patch puts the wall-clock time in Message-IDs; the posting time
    # makes them reproducible.
    for now in $(sed -n 's/^Message-ID: <[^.]*\.\([0-9]*\)\.git\..*/\1/p' "$work/out/$name"/*.patch | sort -u); do
        for file in "$work/out/$name"/*.patch; do
            sed "s/\\.$now\\.git\\./.$time.git./g" "$file" > "$file.new"
            mv "$file.new" "$file"
        done
    done
    cat "$work/out/$name"/*.patch >> "$mbox.new"
}

message_id() { # NAME: the Message-ID of the first mail of a posted series
    sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$(ls "$work/out/$1"/*.patch | head -n 1)"
}

git init -q --initial-branch=master "$work/work"
cd "$work/work"

# master ---------------------------------------------------------------
person "Mae Maintainer" mae@example.org
cp -R "$here/tree/." .
chmod +x tests/run-tests
# The first commit is tree/ before division by zero was handled.
sed '/if (b == 0)/,/return 0;/d' src/calc.c > src/calc.c.new && mv src/calc.c.new src/calc.c
sed 's/  Division by zero returns 0\.//' src/calc.h > src/calc.h.new && mv src/calc.h.new src/calc.h
sed '/div by zero gives 0/d' tests/test_calc.c > tests/test_calc.c.new && mv tests/test_calc.c.new tests/test_calc.c
commit 1698832800 "calc: integer arithmetic with TAP tests" \
"Add, subtract, multiply and divide, a command-line front end, and a
TAP test program that 'make check' runs."
cp -R "$here/tree/." .
commit 1699437600 "calc: return 0 on division by zero" \
"Dividing by zero killed the program with SIGFPE. Return 0 instead, as
calc.h now documents, and test it."
old_master=$(git rev-parse HEAD~1)

# (a) a good series with tests, and a review -----------------------------
person "Alice Adder" alice@example.org
git checkout -q -b pow master
edit after src/calc.h 'int calc_div(int a, int b);' <<'EOF'

/* base raised to the power exp; 1 when exp is 0. */
int calc_pow(int base, unsigned int exp);
EOF
cat >> src/calc.c <<'EOF'

int calc_pow(int base, unsigned int exp)
{
	int result = 1;

	while (exp--)
		result *= base;
	return result;
}
EOF
commit 1699956001 "calc: add calc_pow" \
"Raise an integer to a non-negative power by repeated multiplication.
Overflow is left to the caller, as with calc_mul()."
edit before tests/test_calc.c 'ok(fast_enough()' <<'EOF'
	ok(calc_pow(2, 10) == 1024, "pow");
	ok(calc_pow(-3, 3) == -27, "pow of a negative base");
	ok(calc_pow(5, 0) == 1, "pow with exponent 0");
EOF
commit 1699956002 "tests: cover calc_pow" \
"Check powers of a positive and of a negative base, and exponent 0."
describe pow "calc: add calc_pow

This adds calc_pow() to the library, and tests for it."
post a 1699956000 master..pow --cover-letter --cover-from-description=subject --base=master

cover_a=$(message_id a)
cat >> "$mbox.new" <<EOF
From rita@example.org Tue Nov 14 15:30:00 2023
From: Rita Reviewer <rita@example.org>
To: calc@lists.example.org
Cc: Alice Adder <alice@example.org>
Subject: Re: [PATCH 0/2] calc: add calc_pow
Date: Tue, 14 Nov 2023 15:30:00 +0000
Message-ID: <87review.pow@rita.example.org>
In-Reply-To: <$cover_a>
References: <$cover_a>

On Tue, 14 Nov 2023 10:00:00 +0000, Alice Adder wrote:
> This adds calc_pow() to the library, and tests for it.

Both patches look good to me, and the tests cover the corner cases.

Reviewed-by: Rita Reviewer <rita@example.org>

EOF

# (b) a regression: an existing test breaks -----------------------------
person "Bob Breaker" bob@example.org
git checkout -q -b mul-loop master
edit replace src/calc.c 'return a * b;' <<'EOF'
	int result = 0;
	int i;

	for (i = 0; i < b; i++)
		result += a;
	return result;
EOF
edit before tests/test_calc.c 'ok(fast_enough()' <<'EOF'
	ok(calc_mul(3, 4) == 12, "mul small numbers");
EOF
commit 1700038801 "calc: multiply by repeated addition" \
"Targets without a hardware multiplier pay for every multiply; small
operands are cheaper to add in a loop."
post b 1700038800 master..mul-loop

# (c) code without a test -----------------------------------------------
person "Carol Coder" carol@example.org
git checkout -q -b mod master
edit after src/calc.h 'int calc_div(int a, int b);' <<'EOF'

/* The remainder of calc_div(a, b); 0 when b is 0. */
int calc_mod(int a, int b);
EOF
cat >> src/calc.c <<'EOF'

int calc_mod(int a, int b)
{
	if (b == 0)
		return 0;
	return a - calc_div(a, b) * b;
}
EOF
commit 1700046001 "calc: add calc_mod" \
"The remainder that goes with calc_div(), so that
calc_div(a, b) * b + calc_mod(a, b) == a."
post c 1700046000 master..mod

# (d) written on an old master, does not apply on master ----------------
person "Dave Drift" dave@example.org
git checkout -q -b floor-div "$old_master"
edit replace src/calc.c 'return a / b;' <<'EOF'
	int q = a / b;

	/* C truncates toward zero; step down when the signs differ. */
	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
EOF
edit before tests/test_calc.c 'ok(fast_enough()' <<'EOF'
	ok(calc_div(-8, 2) == -4, "div exact negative");
EOF
commit 1700056801 "calc: round calc_div toward negative infinity" \
"calc.h promises floor division, but C's / truncates toward zero, so
calc_div(-7, 2) gave -3 instead of -4."
post d 1700056800 "$old_master..floor-div"

# (e) v1 does not build; v2, in reply to v1, fixes it -------------------
person "Eve Eager" eve@example.org
for version in 1 2; do
    if [ $version = 1 ]; then end=""; time=1700125200; else end=";"; time=1700211600; fi
    git checkout -q -b "abs-v$version" master
    edit after src/calc.h 'int calc_div(int a, int b);' <<'EOF'

/* The absolute value of a. */
int calc_abs(int a);
EOF
    cat >> src/calc.c <<EOF

int calc_abs(int a)
{
	return a < 0 ? -a : a$end
}
EOF
    commit $((time + 1)) "calc: add calc_abs" "The absolute value, for callers that compare magnitudes."
    edit before tests/test_calc.c 'ok(fast_enough()' <<'EOF'
	ok(calc_abs(-4) == 4, "abs of a negative");
	ok(calc_abs(4) == 4, "abs of a positive");
EOF
    commit $((time + 2)) "tests: cover calc_abs" "Check both signs."
done
describe abs-v1 "calc: add calc_abs

This adds calc_abs() and tests for it."
post e1 1700125200 master..abs-v1 --cover-letter --cover-from-description=subject
describe abs-v2 "calc: add calc_abs

This adds calc_abs() and tests for it.

Changes in v2:
- add the semicolon missing in v1, which broke the build"
post e2 1700211600 master..abs-v2 --cover-letter --cover-from-description=subject \
    -v2 --in-reply-to="$(message_id e1)"

# (f) made on master~1 and says so with base-commit ---------------------
person "Frank Older" frank@example.org
git checkout -q -b clamp "$old_master"
edit after src/calc.h 'int calc_add(int a, int b);' <<'EOF'
int calc_clamp(int x, int lo, int hi);
EOF
edit before src/calc.c 'int calc_sub(int a, int b)' <<'EOF'
int calc_clamp(int x, int lo, int hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

EOF
edit after tests/test_calc.c 'ok(calc_add(-2, -3) == -5' <<'EOF'
	ok(calc_clamp(5, 0, 3) == 3, "clamp above");
	ok(calc_clamp(-5, 0, 3) == 0, "clamp below");
	ok(calc_clamp(2, 0, 3) == 2, "clamp inside");
EOF
commit 1700222401 "calc: add calc_clamp" \
"Limit a value to a range, for callers that feed calc user input."
post f 1700222400 "$old_master..clamp" --base="$old_master"

git checkout -q master
git clone -q --bare --single-branch --branch master "$work/work" "$work/calc.git"
mv "$mbox.new" "$mbox"
echo "master $(git rev-parse master); $(grep -c '^From ' "$mbox") mails in $mbox"
