// The course step's JavaScript face, joined to playground.js (--post-js): M.courseStep(input) and
// M.courseStepFigures(input) (and M.timeCourseSteps(input, n)) take the input object
// {x1, x2, y, alpha, w1: [4], w2: [4], w3: [2]} and return the figures named as the slides name
// them (see bindings.cpp), or {error}. The input goes to the module as 14 numbers and the figures
// come back as one Float64Array over the module's memory, named here: an object built field by
// field from C++ would cost several times the step itself, and copying the figures into arrays of
// their own (subarray, Array.from) cost a third of the call.
(function () {
  const scalars = ['x1', 'x2', 'y', 'alpha'];
  const arrays = [['w1', 4], ['w2', 4], ['w3', 2]];

  // The 14 numbers, or the reason the input has no such shape (the engine checks they are finite).
  function flatten(input) {
    if (input === null || typeof input !== 'object') return 'the input must be an object';
    const numbers = [];
    for (let i = 0; i < scalars.length; ++i) {
      if (typeof input[scalars[i]] !== 'number') return scalars[i] + ' must be a number';
      numbers.push(input[scalars[i]]);
    }
    for (let i = 0; i < arrays.length; ++i) {
      const name = arrays[i][0], length = arrays[i][1], a = input[name];
      if (!Array.isArray(a) || a.length !== length || a.some(function (v) { return typeof v !== 'number'; })) {
        return name + ' must be an array of ' + length + ' numbers';
      }
      for (let j = 0; j < length; ++j) numbers.push(a[j]);
    }
    return numbers;
  }

  // f: the module's 36 figures, a view on its memory (read at once, before another call reuses it).
  function named(input, f, graph) {
    return {
      error: '',
      forward: {in_h1: f[0], a_h1: f[1], in_h2: f[2], a_h2: f[3], in_h3: f[4], a_h3: f[5], in_h4: f[6], a_h4: f[7],
                in_y: f[8], a_y: f[9]},
      loss: f[10],
      delta: {y: f[11], h1: f[12], h2: f[13], h3: f[14], h4: f[15]},
      gradient: {w1: [f[16], f[17], f[18], f[19]], w2: [f[20], f[21], f[22], f[23]], w3: [f[24], f[25]]},
      updated: {x1: input.x1, x2: input.x2, y: input.y, alpha: input.alpha, w1: [f[26], f[27], f[28], f[29]],
                w2: [f[30], f[31], f[32], f[33]], w3: [f[34], f[35]]},
      graph: graph ? graph.graph : '',
      dot: graph ? graph.dot : '',
    };
  }

  function step(input, withGraph) {
    const n = flatten(input);
    if (typeof n === 'string') return {error: n};
    const r = Module['courseStepValues'](n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11],
                                         n[12], n[13], withGraph);
    if (typeof r === 'string') return {error: r};
    return withGraph ? named(input, r.figures, r) : named(input, r, null);
  }

  // Every figure and the recorded graph's table and DOT: what the page shows on each edit.
  Module['courseStep'] = function (input) { return step(input, true); };
  // The figures alone: the step the timings compare with native.
  Module['courseStepFigures'] = function (input) { return step(input, false); };
  // Milliseconds taken by n such steps inside the module (an error's text for a malformed input).
  Module['timeCourseSteps'] = function (input, n) {
    const numbers = flatten(input);
    if (typeof numbers === 'string') return numbers;
    return Module['timeCourseStepsValues'].apply(null, numbers.concat([n]));
  };
})();
