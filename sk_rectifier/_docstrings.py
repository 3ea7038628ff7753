"""One text per shared parameter, substituted into each estimator's docstring.

An estimator's docstring holds a ``{parameters}`` line where its "Parameters"
section goes; :func:`fill_parameters` writes there, in signature order, one
entry per ``__init__`` parameter: ``name : type, default=<the signature's
default>`` and the text below. Texts may use ``{placeholders}`` filled from
the keyword arguments of :func:`fill_parameters` (what differs per estimator,
such as the early-stopping score).
"""

import inspect
import textwrap

_ACTIVATION_TYPE = '{"relu", "softplus", "tanh", "logistic", "identity"}'

#: name -> (type, text)
PARAMETERS = {
    "hidden_layer_sizes": (
        "int or array-like of int",
        "Number of units of each hidden layer{layers_note}.",
    ),
    "activation": (
        _ACTIVATION_TYPE,
        """\
        Hidden-layer activation. ``"relu"`` is the rectifier ``max(0, x)``;
        ``"softplus"`` is ``log(1 + exp(x))``.""",
    ),
    "activation_l1": (
        "float",
        """\
        Coefficient of the L1 penalty on hidden activations: the batch mean
        (sample-weighted) of ``sum(|h|)`` over the units of every hidden layer,
        added to the loss. The paper used about ``1e-3``; larger values give
        more exact zeros with rectifiers.""",
    ),
    "alpha": (
        "float",
        """\
        L2 penalty on the weights (not the biases), scaled as in scikit-learn:
        ``0.5 * alpha * ||W||^2 / sum(batch sample weights)`` is added to each
        batch's loss. With sparse input, the first layer's term covers only the
        weight rows of the features present in the batch (lazy decay), so that
        a step stays proportional to the batch's non-zeros.""",
    ),
    "dropout": (
        "float",
        "Dropout probability applied to each hidden layer's output in training.",
    ),
    "solver": (
        '{"adam", "sgd"{lbfgs}}',
        """\
        Optimizer of the dense layers. The first layer is updated row-wise
        (the same Adam or SGD update), so that with sparse input a step
        touches only the weight rows of the features in the batch.{lbfgs_text}""",
    ),
    "learning_rate": (
        '{"constant", "invscaling", "adaptive"}',
        """\
        Learning-rate schedule, with scikit-learn's semantics: ``"constant"``
        keeps ``learning_rate_init``; ``"invscaling"`` sets it to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch, ``t``
        the number of training samples seen (``t_``); ``"adaptive"`` divides
        it by 5 each time more than ``n_iter_no_change`` consecutive epochs
        fail to improve by ``tol`` (where training would otherwise stop), and
        stops once it is at most 1e-6. Unlike scikit-learn (which applies it to
        ``"sgd"`` only), it applies to ``"adam"`` too; ``partial_fit`` keeps
        the rate reached so far. For any other schedule, pass a skorch
        ``LRScheduler`` in ``callbacks``.""",
    ),
    "learning_rate_init": ("float", "Initial learning rate."),
    "power_t": ("float", 'Exponent of the ``"invscaling"`` schedule.'),
    "momentum": ("float", 'Momentum for ``solver="sgd"``.'),
    "nesterovs_momentum": (
        "bool",
        'Whether to use Nesterov\'s momentum with ``solver="sgd"``.',
    ),
    "beta_1": ("float", "Adam's decay of the first-moment estimate."),
    "beta_2": ("float", "Adam's decay of the second-moment estimate."),
    "epsilon": ("float", "Adam's numerical-stability constant."),
    "batch_size": (
        'int or "auto"',
        'Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.',
    ),
    "max_iter": (
        "int",
        'Maximum number of epochs{per_layer} (iterations with ``"lbfgs"``).',
    ),
    "max_fun": (
        "int",
        """\
        With ``solver="lbfgs"``: maximum number of loss evaluations (each one
        a pass over the whole training set); training stops when it is
        reached, with a ``ConvergenceWarning``.""",
    ),
    "loss": (
        '{"squared_error", "poisson"}',
        """\
        The loss: the squared error summed over targets, or the Poisson
        deviance with a log link (the network predicts ``log(y)``; ``predict``
        returns ``exp`` of it; ``y`` must be non-negative), as in
        scikit-learn's ``MLPRegressor``.""",
    ),
    "shuffle": ("bool", "Whether to shuffle the samples at each epoch."),
    "tol": (
        "float",
        """\
        Minimal improvement of the training loss (or of the validation
        {score} with ``early_stopping``) that counts as progress.""",
    ),
    "n_iter_no_change": (
        "int",
        "Epochs without progress after which training{per_layer} stops.",
    ),
    "early_stopping": (
        "bool",
        """\
        Hold out {held_out}``validation_fraction`` of the training data, stop
        when its {score} stops improving, and restore the weights of the best
        epoch{per_layer}. Data too small to leave a training part once the
        held-out part is taken is trained on as a whole.""",
    ),
    "validation_fraction": (
        "float",
        "Fraction of the training data held out with ``early_stopping``.",
    ),
    "class_weight": (
        'dict, "balanced" or None',
        """\
        Weights of the classes, multiplied into ``sample_weight``; ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``.""",
    ),
    "random_state": (
        "int, RandomState instance or None",
        """\
        Seeds weight initialisation, shuffling, dropout, corruption and the
        validation split, for this estimator's fits only. The same seed on the
        same data on CPU gives identical results.""",
    ),
    "device": (
        "str",
        """\
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. The resolved device is ``device_``.""",
    ),
    "n_threads": (
        "int or None",
        """\
        Torch intra-op threads of each ``fit``, ``predict`` or ``transform``
        call on CPU. None: chosen per call (and per epoch in ``fit``): one
        thread for a small prediction, else as many as the cores this process
        may use (``os.sched_getaffinity``) that other processes are not busy
        on at that moment (Linux), never more than
        ``torch.get_num_threads()``, which follows ``OMP_NUM_THREADS`` and the
        limits joblib sets in its workers. While other processes are busy, a
        prediction of more than one batch (4096 rows) instead shares its
        batches among up to that many threads of one torch thread each,
        which do not wait on one another as the threads of one operation do.
        torch's global setting is restored after each call. Give an int to
        fix the number of torch threads.""",
    ),
    "callbacks": (
        "list of skorch callbacks or None",
        """\
        skorch callbacks (or ``(name, callback)`` pairs) run inside each
        ``fit``{per_layer}, after the estimator's own (which record
        ``train_loss``, and ``valid_score`` or ``valid_loss`` with
        ``early_stopping``, in the net's history): for example
        ``skorch.callbacks.LRScheduler``, ``Checkpoint`` or ``TensorBoard``.
        Each fit uses fresh clones, so the list is never changed by fitting
        (a callback that cannot be copied, such as one holding a TensorBoard
        writer, is used as it is). They are not kept in the fitted model, nor
        saved in the safe format.
        A learning-rate scheduler acts on every layer, the first included.""",
    ),
    "precision": (
        '{"float32", "bfloat16", "float16"}',
        """\
        Arithmetic of training and inference: ``"float32"``, or automatic
        mixed precision through ``torch.autocast`` -- matrix products in
        ``bfloat16`` (CPU and CUDA) or ``float16`` (CUDA, with a gradient
        scaler; on CPU it runs as ``"bfloat16"`` with a warning). Weights,
        optimizer state and outputs stay float32. On a CPU, bfloat16 pays
        off for dense layers where the processor has bfloat16 instructions
        (AVX512-BF16 or AMX): on 2 cores of an AMD EPYC, three layers of
        1000 rectifiers on Fashion-MNIST trained 2.2-2.6x faster than in
        float32, with about the same accuracy (``benchmarks/bench_speed.py``).
        Sparse input gains nothing (a sparse first layer sums in float32;
        MR TF-IDF trained 4-10% slower). To predict, the classifier and
        the regressor cast their weights once and keep the copies (half the
        weights' memory) until the weights change; the autoencoder casts
        them at each call, so its one-row ``transform`` takes longer than in
        float32.""",
    ),
    "compile": (
        "bool",
        """\
        Run the dense layers through ``torch.compile``. Where the platform
        cannot compile (no C compiler, an unsupported Python), it warns once
        and runs them as they are.""",
    ),
    "strategy": (
        '{"single", "ddp"}',
        """\
        ``"single"``: one process. ``"ddp"``: one model trained data-parallel
        by the processes that ``torchrun --nproc-per-node=N script.py`` or
        ``accelerate launch script.py`` starts (Accelerate sets up the process
        group: gloo on CPU, NCCL with one GPU per process). Every process runs
        the same script on the same data; each takes its share of every
        ``batch_size`` batch, the gradients (the sparse first layer's rows
        included) are summed over the processes, and every process ends with
        the same weights -- those of a one-process fit on the same batches, to
        float rounding (with ``dropout``, each process draws the masks of its
        own share). Save or pickle the model on one process (rank 0); it
        predicts anywhere. An interrupt stops the whole fit. End the script
        with ``torch.distributed.destroy_process_group()``. Needs the
        ``distributed`` extra; not with ``"lbfgs"`` or ``precision="float16"``.""",
    ),
    "verbose": (
        "int",
        "0 is silent, 1 prints one line per epoch, 2 adds a tqdm progress bar.",
    ),
    "warm_start": (
        "bool",
        """\
        Continue training from the current weights on the next call to fit.
        The optimizer restarts with the current ``learning_rate_init``, as in
        scikit-learn's MLP; ``partial_fit`` keeps its state.""",
    ),
    "pretraining": (
        "DenoisingAutoencoderTransformer or None",
        """\
        Unsupervised pre-training: the hidden layers start from the encoder
        layers of this autoencoder (which must have the same
        ``hidden_layer_sizes``), then the whole network is fine-tuned. An
        autoencoder that is already fitted is used as it is; otherwise a clone
        is fitted inside ``fit`` on all of ``X``. A search or a
        cross-validation clones the estimator, and with it the autoencoder,
        which is then fitted again on each training fold: to keep an
        autoencoder fitted beforehand (on unlabeled data, say), pass it as
        ``sklearn.frozen.FrozenEstimator(autoencoder)``.{unlabeled}""",
    ),
    "freeze_pretrained": (
        "bool",
        """\
        Keep the hidden layers that ``pretraining`` initialised fixed while
        fitting: only the output layer learns. With few labels this keeps the
        representation the autoencoder learned from every sample, where
        fine-tuning the whole network on the labeled ones would overwrite it
        (see the pre-training benchmark). Needs ``pretraining``.""",
    ),
    "corruption": (
        '{"masking", "salt_and_pepper", "gaussian"}',
        """\
        Noise applied to each layer's input during training: zero a random
        fraction of the entries; set a random fraction to 0 or 1; or add
        Gaussian noise. On sparse input only the stored entries are corrupted.""",
    ),
    "corruption_level": (
        "float or array-like of float",
        """\
        Fraction of entries corrupted (masking, salt and pepper; in [0, 1]) or
        the noise's standard deviation (gaussian); one value per layer allowed.""",
    ),
    "reconstruction": (
        '{"auto", "softplus_squared", "sigmoid_cross_entropy", "linear_squared"}',
        """\
        Decoder output and cost. ``"softplus_squared"``: softplus output,
        squared error (the paper's choice for rectifier codes on images);
        ``"sigmoid_cross_entropy"``: sigmoid output, cross-entropy against the
        target scaled into [0, 1] by its per-feature training maximum (the
        paper's choice on text); ``"linear_squared"``: linear output, squared
        error. ``"auto"``: for the first layer, sigmoid cross-entropy when the
        input lies in [0, 1] (TF-IDF, pixel intensities), else linear squared
        error; above it, by the activation below: softplus squared error for
        ``relu``/``softplus`` codes, sigmoid cross-entropy for ``logistic``,
        linear squared error for ``tanh``/``identity``.""",
    ),
    "sparse_output": (
        "bool",
        """\
        ``transform`` returns a SciPy CSR matrix, built batch by batch: the
        dense code of the whole input is never held, so a rectifier code of
        many units at 80 %+ zeros takes the memory of its non-zeros only.""",
    ),
    "tied_weights": ("bool", "Whether the decoder weight is the encoder's transpose."),
}

#: placeholder values used unless an estimator gives its own
DEFAULTS = {
    "layers_note": "",
    "lbfgs": "",
    "lbfgs_text": "",
    "per_layer": "",
    "score": "loss",
    "held_out": "",
    "unlabeled": "",
}


def _default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def parameters_section(cls, **context):
    """The entries of ``cls``'s "Parameters" section, unindented."""
    context = {**DEFAULTS, **context}
    entries = []
    for name, param in inspect.signature(cls).parameters.items():
        kind, text = PARAMETERS[name]
        for key, value in context.items():  # types hold braces: no .format
            kind = kind.replace(f"{{{key}}}", value)
        body = textwrap.dedent(text).format(**context)
        entries.append(
            f"{name} : {kind}, default={_default(param.default)}\n"
            + textwrap.indent(body, "    ")
        )
    return "\n".join(entries)


def fill_parameters(**context):
    """Class decorator: write the "Parameters" entries of the class's
    ``__init__`` parameters where its docstring has ``{parameters}``."""

    def decorate(cls):
        lines = cls.__doc__.splitlines()
        (at,) = [i for i, line in enumerate(lines) if line.strip() == "{parameters}"]
        margin = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        section = textwrap.indent(parameters_section(cls, **context), margin)
        cls.__doc__ = "\n".join(lines[:at] + [section] + lines[at + 1 :])
        return cls

    return decorate
