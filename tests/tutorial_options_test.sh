#!/bin/sh
# The tutorials' command lines, as users get them wrong (tutorials/cli.hpp): a bad option exits 2,
# an output that cannot be written exits 1, --help exits 0; a failure prints exactly one line on
# stderr, "program: reason", naming the option or the file; it fails before any work (nothing on
# stdout, within a second); and nothing aborts (exit 134) or dies of a signal.
#
#   sh tutorial_options_test.sh PROGRAM BINARY WORKDIR
#
# Runs as root as well as not: an unwritable output is a path below a regular file, under /proc
# (which even root cannot write), a regular file given as a folder, or /dev/full.
set -u
program=$1
bin=$2
work=$3
fast_ms=${TUTORIAL_FAIL_FAST_MS:-1000}
data=/usr/share/datasets/fashion-mnist

rm -rf "$work" && mkdir -p "$work" || exit 1
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

# expect CODE NEEDLE ARGS...: runs the program with ARGS and checks the exit code, and for a
# failure that stderr is one line "program: ..." holding NEEDLE, and that the program stopped
# before any work: nothing on stdout, within a second. expect_late: a failure after the work.
# A run still going after 10 s (120 s for expect_late) is stopped and fails.
expect() {
  early=1
  limit=10
  check "$@"
}
expect_late() {
  early=0
  limit=120
  check "$@"
}
check() {
  code=$1
  needle=$2
  shift 2
  start=$(date +%s%N)
  timeout "$limit" "$bin" "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
  got=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  what="$program $* (exit $got, ${ms} ms)"
  if [ "$got" -eq 124 ]; then
    fail "$what: still running after $limit s (an option that wrapped around?)"
    return
  fi
  if [ "$got" -ge 128 ]; then
    fail "$what: killed by signal $((got - 128)): $(head -c 300 "$work/stderr")"
    return
  fi
  if [ "$got" -ne "$code" ]; then
    fail "$what: expected exit $code; stderr: $(head -c 300 "$work/stderr")"
    return
  fi
  if [ "$code" -ne 0 ]; then
    lines=$(wc -l <"$work/stderr")
    if [ "$lines" -ne 1 ]; then
      fail "$what: stderr should be one line, is $lines: $(head -c 300 "$work/stderr")"
      return
    fi
    case "$(cat "$work/stderr")" in
      "$program: "*) ;;
      *) fail "$what: stderr does not start with '$program: ': $(cat "$work/stderr")"; return ;;
    esac
    if [ -n "$needle" ] && ! grep -qF -- "$needle" "$work/stderr"; then
      fail "$what: stderr does not name '$needle': $(cat "$work/stderr")"
      return
    fi
    if [ "$early" = 1 ]; then
      if [ -s "$work/stdout" ]; then
        fail "$what: it did some work before failing: $(head -c 200 "$work/stdout")"
        return
      fi
      if [ "$ms" -gt "$fast_ms" ]; then
        fail "$what: took ${ms} ms to fail, more than ${fast_ms}"
        return
      fi
    fi
  fi
  echo "ok: $what${needle:+: $(cat "$work/stderr")}"
}

# Options every program shares.
expect 0 "" --help
grep -q "Usage: $program" "$work/stdout" && grep -q "Exit status: 0" "$work/stdout" ||
  fail "$program --help: no usage or exit status"
expect 0 "" -h
expect 2 "--no-such-option" --no-such-option
expect 2 "stray" stray

# Paths that cannot be written, even by root.
echo "a regular file" >"$work/file"
unwritable_folders="$work/file $work/file/sub /proc/self /proc/self/missing/out"

case $program in
  course_backprop)
    expect 2 "--dot" --dot
    expect 2 "--dot" --dot ""
    expect 2 "--dot" --dot a.dot --dot b.dot
    expect 1 "/proc/version/x.dot" --dot /proc/version/x.dot
    expect 1 "$work/missing/x.dot" --dot "$work/missing/x.dot"
    expect 1 "$work" --dot "$work"
    # Opens, then the write fails (a full disk): never "wrote the file".
    if [ -c /dev/full ]; then
      expect_late 1 "/dev/full" --dot /dev/full
      grep -qF "is in /dev/full" "$work/stdout" && fail "course_backprop --dot /dev/full says it wrote the file"
    fi
    expect 0 "" --dot "$work/graph.dot"
    head -c 7 "$work/graph.dot" | grep -q digraph || fail "course_backprop --dot: $work/graph.dot is not a DOT graph"
    grep -qF "is in $work/graph.dot" "$work/stdout" || fail "course_backprop --dot: the output does not name the file"
    ;;

  half_adder)
    expect 2 "--out" --out
    expect 2 "--out" --out ""
    for dir in $unwritable_folders; do expect 1 "$dir" --out "$dir"; done
    # A missing folder is created, parents and all; it gets the six files, complete.
    expect 0 "" --out "$work/new/nested"
    for name in half_adder_perceptron_sum half_adder_perceptron_carry half_adder_mlp; do
      head -n 1 "$work/new/nested/$name.csv" | grep -q "^epoch,train_loss" || fail "half_adder: no $name.csv"
      tail -c 7 "$work/new/nested/$name.svg" | grep -q "</svg>" || fail "half_adder: no complete $name.svg"
    done
    ls -A "$work/new/nested" | grep -q write-test && fail "half_adder: the write test's file was left behind"
    # A file that opens but cannot be written (a full disk): named, exit 1, the others still written.
    if [ -c /dev/full ]; then
      mkdir -p "$work/full" && ln -s /dev/full "$work/full/half_adder_mlp.csv"
      expect_late 1 "$work/full/half_adder_mlp.csv" --out "$work/full"
      [ -s "$work/full/half_adder_mlp.svg" ] && [ -s "$work/full/half_adder_perceptron_sum.csv" ] ||
        fail "half_adder: one failed file stopped the others being written"
    fi
    ;;

  fashion_mnist_mlp)
    for value in abc -1 0 1001 1.5 1e2 0x10 "" " "; do expect 2 "--epochs" --epochs "$value"; done
    expect 2 "--epochs" --epochs
    expect 2 "--epochs" --epochs 1 --epochs 2
    for value in 0 -1 60001 abc 18446744073709551617; do expect 2 "--batch-size" --batch-size "$value"; done
    for value in -1 0 nan NaN inf -inf 1.5 1e-3x abc ""; do expect 2 "--lr" --lr "$value"; done
    for value in -1 18446744073709551616 1.5 abc; do expect 2 "--seed" --seed "$value"; done
    for value in 0 -1 257 abc; do expect 2 "--threads" --threads "$value"; done
    expect 2 "--data" --data ""
    expect 2 "--out" --out ""
    # A bad option is found before a bad output folder.
    expect 2 "--epochs" --out "$work/file" --epochs 0
    # The output folder is checked before the data is read, let alone the training: with the
    # data present (fast, nothing on stdout) and without it (the error names the folder).
    for dir in $unwritable_folders; do
      expect 1 "$dir" --out "$dir"
      expect 1 "$dir" --out "$dir" --data "$work/no-data"
    done
    # Missing or corrupt data: exit 1, one line, naming the file and how to install the data;
    # the output folder was checked (and created) first.
    expect 1 "dataset-fashion-mnist" --data "$work/no-data" --out "$work/out/created"
    [ -d "$work/out/created" ] || fail "fashion_mnist_mlp: the missing output folder was not created"
    mkdir -p "$work/bad-data" && echo "not an IDX file" >"$work/bad-data/train-images-idx3-ubyte"
    expect 1 "$work/bad-data" --data "$work/bad-data" --out "$work/out"
    # A good run trains, which takes a few seconds: only with the data, one epoch in big batches.
    # The weights' file is a folder, so that saving them fails after the training: they go to the
    # temporary folder, the learning curve is still written, and the run exits 1 naming the file.
    if [ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ]; then
      mkdir -p "$work/trained/fashion_mnist_mlp.npz" "$work/tmp"
      TMPDIR="$work/tmp" && export TMPDIR
      expect_late 1 "$work/trained/fashion_mnist_mlp.npz" --epochs 1 --batch-size 1000 --lr 0.01 --out "$work/trained"
      unset TMPDIR
      ls "$work/tmp"/fashion_mnist_mlp-*.npz >/dev/null 2>&1 ||
        fail "fashion_mnist_mlp: the weights were not saved to the temporary folder"
      [ "$(wc -l <"$work/trained/fashion_mnist_curve.csv")" -eq 2 ] ||
        fail "fashion_mnist_mlp: no learning curve for the one epoch"
      tail -c 7 "$work/trained/fashion_mnist_curve.svg" | grep -q "</svg>" || fail "fashion_mnist_mlp: no complete SVG"
      grep -q "test accuracy" "$work/stdout" || fail "fashion_mnist_mlp: no test accuracy printed"
    else
      echo "skipped the training run: no Fashion-MNIST in $data (Debian: dataset-fashion-mnist)"
    fi
    ;;

  sparse_autoencoder)
    for value in abc -1 0 1001 1.5; do expect 2 "--epochs" --epochs "$value"; done
    for value in -1 1001 abc; do expect 2 "--whole-epochs" --whole-epochs "$value"; done
    for value in 0 1000001 abc; do expect 2 "--patches" --patches "$value"; done
    for value in 0 10001; do expect 2 "--hidden" --hidden "$value"; expect 2 "--whole-hidden" --whole-hidden "$value"; done
    for value in 0 -0.1 1 0.995 nan abc; do expect 2 "--rho" --rho "$value"; done
    for value in -1 -1e-300 1001 inf; do expect 2 "--beta" --beta "$value"; done
    for value in -0.5 11 nan; do expect 2 "--weight-decay" --weight-decay "$value"; done
    for value in 0 -1 1.5; do expect 2 "--lr" --lr "$value"; done
    for value in 0 60001; do expect 2 "--batch-size" --batch-size "$value"; done
    for value in 0 257; do expect 2 "--threads" --threads "$value"; done
    expect 2 "--out" --out ""
    for dir in $unwritable_folders; do
      expect 1 "$dir" --out "$dir"
      expect 1 "$dir" --out "$dir" --data "$work/no-data"
    done
    expect 1 "dataset-fashion-mnist" --data "$work/no-data" --out "$work/out/created"
    [ -d "$work/out/created" ] || fail "sparse_autoencoder: the missing output folder was not created"
    # A short run of both settings (beta and lambda at 0 are allowed): the pictures are PNG files,
    # the curves complete, and the mean activation is reported.
    if [ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ]; then
      expect_late 0 "" --patches 2000 --epochs 2 --whole-epochs 1 --whole-hidden 16 --batch-size 500 --beta 0 \
        --weight-decay 0 --out "$work/trained"
      for name in patches images; do
        head -c 8 "$work/trained/sparse_autoencoder_$name.png" | od -c | grep -q "P   N   G" ||
          fail "sparse_autoencoder: $name.png is not a PNG file"
        [ "$(wc -l <"$work/trained/sparse_autoencoder_${name}_curve.csv")" -eq $([ $name = patches ] && echo 3 || echo 2) ] ||
          fail "sparse_autoencoder: no complete ${name}_curve.csv"
        tail -c 7 "$work/trained/sparse_autoencoder_${name}_curve.svg" | grep -q "</svg>" ||
          fail "sparse_autoencoder: no complete ${name}_curve.svg"
      done
      grep -q "mean activation of the 16 hidden units" "$work/stdout" || fail "sparse_autoencoder: no mean activation"
      # A picture that cannot be written is named, the run goes on and exits 1.
      mkdir -p "$work/full/sparse_autoencoder_patches.png"
      expect_late 1 "sparse_autoencoder_patches.png" --patches 500 --epochs 1 --whole-epochs 0 --out "$work/full"
      [ -s "$work/full/sparse_autoencoder_patches_curve.csv" ] || fail "sparse_autoencoder: a failed picture stopped the curve"
    else
      echo "skipped the training run: no Fashion-MNIST in $data (Debian: dataset-fashion-mnist)"
    fi
    ;;

  stacked_autoencoder)
    for value in 0 4097 abc -1 1.5 "" 1,2,3,4,5,6,7,8,9 5,0; do expect 2 "--hidden" --hidden "$value"; done
    expect 2 "--hidden" --hidden
    for value in 0 -1 1001 abc; do expect 2 "--pretrain-epochs" --pretrain-epochs "$value"; done
    for value in 0 10001 1.5; do expect 2 "--epochs" --epochs "$value"; done
    expect 2 "--epochs" --epochs 1 --epochs 2
    for value in 0 5001 abc; do expect 2 "--labelled-per-class" --labelled-per-class "$value"; done
    for value in -1 60001 abc; do expect 2 "--unlabelled" --unlabelled "$value"; done
    for value in 0 101 -1; do expect 2 "--seeds" --seeds "$value"; done
    for value in -1 18446744073709551616 1.5 abc; do expect 2 "--seed" --seed "$value"; done
    for value in 0 257; do expect 2 "--threads" --threads "$value"; done
    expect 2 "--data" --data ""
    expect 2 "--out" --out ""
    # A bad option is found before a bad output folder.
    expect 2 "--seeds" --out "$work/file" --seeds 0
    # The output folder, and the results' file in it, are checked before the data is read.
    for dir in $unwritable_folders; do
      expect 1 "$dir" --out "$dir"
      expect 1 "$dir" --out "$dir" --data "$work/no-data"
    done
    mkdir -p "$work/taken/stacked_autoencoder_results.csv"
    expect 1 "$work/taken/stacked_autoencoder_results.csv" --out "$work/taken"
    expect 1 "dataset-fashion-mnist" --data "$work/no-data" --out "$work/out/created"
    [ -d "$work/out/created" ] || fail "stacked_autoencoder: the missing output folder was not created"
    mkdir -p "$work/bad-data" && echo "not an IDX file" >"$work/bad-data/train-images-idx3-ubyte"
    expect 1 "$work/bad-data" --data "$work/bad-data" --out "$work/out"
    # A short run, two seeds of a small stack on 2,000 unlabelled images: the three accuracies of
    # each seed and their spread, in the results' file too.
    if [ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ]; then
      expect_late 0 "" --hidden 16,8 --pretrain-epochs 1 --epochs 2 --labelled-per-class 5 --unlabelled 2000 \
        --seeds 2 --seed 7 --out "$work/trained"
      [ "$(head -n 1 "$work/trained/stacked_autoencoder_results.csv")" = \
        "seed,softmax_on_codes,pretrained_fine_tuned,random_start" ] &&
        [ "$(wc -l <"$work/trained/stacked_autoencoder_results.csv")" -eq 3 ] &&
        grep -q "^8,0\.[0-9]*,0\.[0-9]*,0\.[0-9]*$" "$work/trained/stacked_autoencoder_results.csv" ||
        fail "stacked_autoencoder: no complete results file for seeds 7 and 8"
      grep -q "standard deviation" "$work/stdout" && grep -q "min\.\.max" "$work/stdout" ||
        fail "stacked_autoencoder: no mean and spread printed"
      grep -q "2,000 unlabelled\|2000 unlabelled" "$work/stdout" || fail "stacked_autoencoder: --unlabelled not used"
      # The results' file opens but cannot be written (a full disk): named, exit 1, after the work.
      if [ -c /dev/full ]; then
        mkdir -p "$work/full" && ln -s /dev/full "$work/full/stacked_autoencoder_results.csv"
        expect_late 1 "$work/full/stacked_autoencoder_results.csv" --hidden 8 --pretrain-epochs 1 --epochs 1 \
          --labelled-per-class 2 --unlabelled 500 --seeds 1 --out "$work/full"
        grep -q "random start" "$work/stdout" || fail "stacked_autoencoder: the accuracies were not printed"
      fi
    else
      echo "skipped the training run: no Fashion-MNIST in $data (Debian: dataset-fashion-mnist)"
    fi
    ;;

  fashion_mnist_convnet | inception)
    for value in abc -1 0 1001 1.5 1e2 0x10 "" " "; do expect 2 "--epochs" --epochs "$value"; done
    expect 2 "--epochs" --epochs
    expect 2 "--epochs" --epochs 1 --epochs 2
    for value in 0 -1 60001 abc; do expect 2 "--batch-size" --batch-size "$value"; done
    for value in -1 0 nan inf 1.5 1e-3x abc ""; do expect 2 "--lr" --lr "$value"; done
    for value in -1 1001 1.5 abc ""; do expect 2 "--slow-epochs" --slow-epochs "$value"; done
    for value in 0 -1 60001 1.5 abc; do expect 2 "--train-images" --train-images "$value"; done
    for value in 0 -1 10001 abc; do expect 2 "--test-images" --test-images "$value"; done
    for value in -1 18446744073709551616 1.5 abc; do expect 2 "--seed" --seed "$value"; done
    for value in 0 -1 257 abc; do expect 2 "--threads" --threads "$value"; done
    expect 2 "--data" --data ""
    expect 2 "--out" --out ""
    if [ "$program" = fashion_mnist_convnet ]; then
      for value in -1 10000 abc 1.5; do expect 2 "--image" --image "$value"; done
    else
      expect 2 "--skip-convnet" --skip-convnet=abc
    fi
    # A bad option is found before a bad output folder.
    expect 2 "--epochs" --out "$work/file" --epochs 0
    # The output folder (and inception's results file in it) before the data is read.
    for dir in $unwritable_folders; do
      expect 1 "$dir" --out "$dir"
      expect 1 "$dir" --out "$dir" --data "$work/no-data"
    done
    if [ "$program" = inception ]; then
      mkdir -p "$work/taken/inception_results.csv"
      expect 1 "$work/taken/inception_results.csv" --out "$work/taken"
    fi
    expect 1 "dataset-fashion-mnist" --data "$work/no-data" --out "$work/out/created"
    [ -d "$work/out/created" ] || fail "$program: the missing output folder was not created"
    mkdir -p "$work/bad-data" && echo "not an IDX file" >"$work/bad-data/train-images-idx3-ubyte"
    expect 1 "$work/bad-data" --data "$work/bad-data" --out "$work/out"
    # A short run: two epochs on 1,000 images, the second slow, tested on 500; the curves complete,
    # the pictures PNG files, the accuracy and the parameter count printed.
    if [ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ]; then
      expect_late 0 "" --epochs 2 --slow-epochs 1 --train-images 1000 --test-images 500 --batch-size 50 \
        --out "$work/trained"
      grep -q "1000 training and 500 test images" "$work/stdout" || fail "$program: --train-images or --test-images not used"
      if [ "$program" = fashion_mnist_convnet ]; then
        curves=fashion_mnist_convnet_curve
        for name in filters feature_maps; do
          head -c 8 "$work/trained/fashion_mnist_convnet_$name.png" | od -c | grep -q "P   N   G" ||
            fail "$program: $name.png is not a PNG file"
        done
        grep -q "215370 parameters: test accuracy 0\.[0-9]* after 2 epochs" "$work/stdout" ||
          fail "$program: no parameter count and test accuracy printed"
        # A picture that cannot be written is named, the others are still written, exit 1.
        mkdir -p "$work/full/fashion_mnist_convnet_filters.png"
        expect_late 1 "fashion_mnist_convnet_filters.png" --epochs 1 --train-images 200 --test-images 100 --out "$work/full"
        [ -s "$work/full/fashion_mnist_convnet_feature_maps.png" ] && [ -s "$work/full/fashion_mnist_convnet_curve.csv" ] ||
          fail "$program: a failed picture stopped the others"
      else
        curves="inception_curve inception_convnet_curve"
        [ "$(head -n 1 "$work/trained/inception_results.csv")" = "network,parameters,test_accuracy,seconds_per_epoch" ] &&
          [ "$(wc -l <"$work/trained/inception_results.csv")" -eq 3 ] &&
          grep -q "^plain convnet,215370,0\.[0-9]*,[0-9.]*$" "$work/trained/inception_results.csv" ||
          fail "$program: no complete results file for both networks"
        tail -c 7 "$work/trained/inception_comparison.svg" | grep -q "</svg>" || fail "$program: no complete comparison SVG"
        # --skip-convnet: the inception network alone; the results' file cannot be written (a
        # full disk): named, exit 1, after the work.
        if [ -c /dev/full ]; then
          mkdir -p "$work/full" && ln -s /dev/full "$work/full/inception_results.csv"
          expect_late 1 "$work/full/inception_results.csv" --skip-convnet --epochs 1 --train-images 200 \
            --test-images 100 --out "$work/full"
          grep -q "plain convnet" "$work/stdout" && fail "$program: --skip-convnet trained the plain convnet"
          grep -q "inception network .* 0\.[0-9]*" "$work/stdout" || fail "$program: the accuracy was not printed"
        fi
      fi
      for curve in $curves; do
        [ "$(wc -l <"$work/trained/$curve.csv")" -eq 3 ] || fail "$program: no complete $curve.csv"
        tail -c 7 "$work/trained/$curve.svg" | grep -q "</svg>" || fail "$program: no complete $curve.svg"
      done
    else
      echo "skipped the training run: no Fashion-MNIST in $data (Debian: dataset-fashion-mnist)"
    fi
    ;;

  rbm)
    for value in 0 4097 abc -1 1.5 ""; do expect 2 "--hidden" --hidden "$value"; expect 2 "--dbn-hidden" --dbn-hidden "$value"; done
    for value in 0 -1 1001 abc; do
      expect 2 "--epochs" --epochs "$value"
      expect 2 "--dbn-epochs" --dbn-epochs "$value"
      expect 2 "--fine-tune-epochs" --fine-tune-epochs "$value"
    done
    expect 2 "--epochs" --epochs 1 --epochs 2
    for value in 0 101 abc; do expect 2 "--k" --k "$value"; done
    expect 2 "--cd" --cd=abc
    for value in -1 0 nan inf 1.5 1e-3x abc ""; do expect 2 "--lr" --lr "$value"; done
    for value in 0 -1 60001 abc; do expect 2 "--train-images" --train-images "$value"; done
    for value in 0 10001 abc; do expect 2 "--test-images" --test-images "$value"; done
    for value in 0 100001 abc; do expect 2 "--gibbs-steps" --gibbs-steps "$value"; done
    for value in 0 1 10001 abc; do expect 2 "--ais-runs" --ais-runs "$value"; done
    for value in 0 2 1000001 abc; do expect 2 "--ais-steps" --ais-steps "$value"; done
    for value in -1 18446744073709551616 1.5 abc; do expect 2 "--seed" --seed "$value"; done
    for value in 0 257; do expect 2 "--threads" --threads "$value"; done
    expect 2 "--data" --data ""
    expect 2 "--out" --out ""
    # A bad option is found before a bad output folder.
    expect 2 "--ais-runs" --out "$work/file" --ais-runs 1
    # The output folder, and the curve's file in it, are checked before the data is read.
    for dir in $unwritable_folders; do
      expect 1 "$dir" --out "$dir"
      expect 1 "$dir" --out "$dir" --data "$work/no-data"
    done
    mkdir -p "$work/taken/rbm_curve.csv"
    expect 1 "$work/taken/rbm_curve.csv" --out "$work/taken"
    expect 1 "dataset-fashion-mnist" --data "$work/no-data" --out "$work/out/created"
    [ -d "$work/out/created" ] || fail "rbm: the missing output folder was not created"
    mkdir -p "$work/bad-data" && echo "not an IDX file" >"$work/bad-data/train-images-idx3-ubyte"
    expect 1 "$work/bad-data" --data "$work/bad-data" --out "$work/out"
    # A short run (the CI command): small layers, one epoch of each stage on 1,000 images, a short
    # AIS; the curve complete, the three pictures PNG files, the estimates and accuracies printed.
    short="--hidden 32 --dbn-hidden 16 --epochs 2 --dbn-epochs 1 --fine-tune-epochs 1 --train-images 1000 --test-images 500 --gibbs-steps 20 --ais-runs 10 --ais-steps 200"
    if [ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ]; then
      # shellcheck disable=SC2086
      expect_late 0 "" $short --out "$work/trained"
      [ "$(head -n 1 "$work/trained/rbm_curve.csv")" = "epoch,cd_loss,reconstruction_error,pseudo_log_likelihood,seconds" ] &&
        [ "$(wc -l <"$work/trained/rbm_curve.csv")" -eq 3 ] || fail "rbm: no complete rbm_curve.csv"
      for name in rbm_filters rbm_samples dbn_samples; do
        head -c 8 "$work/trained/$name.png" | od -c | grep -q "P   N   G" || fail "rbm: $name.png is not a PNG file"
      done
      grep -q "1000 training and 500 test images" "$work/stdout" || fail "rbm: --train-images or --test-images not used"
      grep -q "epoch 2/2 .*pseudo-log-likelihood -[0-9]" "$work/stdout" || fail "rbm: no pseudo-likelihood per epoch"
      grep -q "log Z = [0-9.]*, band \[" "$work/stdout" || fail "rbm: no AIS estimate with its band"
      grep -q "mean log-likelihood: test -[0-9.]* nats" "$work/stdout" || fail "rbm: no test log-likelihood"
      grep -q "test accuracy: DBN-initialised 0\.[0-9]*, random start 0\.[0-9]*" "$work/stdout" ||
        fail "rbm: no accuracies printed"
      # A picture that cannot be written is named, the others are still written, exit 1.
      mkdir -p "$work/full/rbm_samples.png"
      # shellcheck disable=SC2086
      expect_late 1 "rbm_samples.png" $short --out "$work/full"
      [ -s "$work/full/dbn_samples.png" ] && [ -s "$work/full/rbm_curve.csv" ] || fail "rbm: a failed picture stopped the others"
    else
      echo "skipped the training run: no Fashion-MNIST in $data (Debian: dataset-fashion-mnist)"
    fi
    ;;

  *)
    fail "unknown program $program"
    ;;
esac

[ "$failed" = 0 ] && rm -rf "$work"
exit "$failed"
