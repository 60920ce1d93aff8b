"""Task YAML files shipped with evals (installed as the package ``evals.builtin_tasks``).

One file per task, named ``<name>.yaml``; more folders via ``EVALS_TASK_PATH``. Format
(validated by ``evals.tasks.spec``; unknown keys are errors, nothing is executed)::

    name: gsm8k                      # must equal the file name
    description: One line for `evals tasks`.
    answer_type: number              # number | math | choice | text (or per subtask)
    expected_items: 1319             # the verified size of the full task
    dataset:                         # a file-backed task (or `generator:`, below)
      local_file: gsm8k/test.jsonl   # read as DIR/<local_file> with --data-dir DIR
      hub: {path: openai/gsm8k, name: main, split: test}   # used without a data dir
      fields:
        id: unique_id                # optional; else "<index>-<hash>" ids
        question: question
        question_transform: strip    # named transforms from evals.tasks.gold
        gold: answer
        gold_transform: after_hashes # strip | after_hashes | last_boxed | int | number | ...
      choices:                       # multiple choice only, one of three kinds:
        kind: columns                #   correct/incorrect columns (GPQA), needs shuffle_seed
        kind: list                   #   {text: [...], label: [...]} field + gold label (ARC)
        kind: inline                 #   "(A) ..." lines inside the question (BBH)
      subtasks:                      # a group told apart by a record field (BBH)
        field: task
        members: {navigate: {answer_type: text, expected_items: 250}}
    generator: {name: arithmetic, level: easy, seed: 0, n_items: 200}
    prompt:
      template: "{question}"         # str.format fields: question, choices_block, letters,
      system: null                   # subtask; {{ }} for literal braces; or one per answer type
    generation: {max_tokens: 1024}   # defaults; command-line options override

``--limit N`` keeps the first N items in file order (after ``task:subtask`` selection);
a generated task is an unbounded stream and ``--limit`` takes its first N items.
"""
