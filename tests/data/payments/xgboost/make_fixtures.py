#!/usr/bin/env python3
"""Regenerates the XGBoost fixtures of tests/payments/xgboost_model_test.cc with Debian's `xgboost` CLI.

Writes train.libsvm (synthetic payment feature vectors, SPEC section 4 layout, some features missing),
model.json (binary:logistic, 20 trees of depth 4), test.libsvm (held-out rows plus rows that sit exactly
on split thresholds), and the CLI's reference outputs pred.txt (probabilities) and margin.txt (margins).
Feature values are float32-representable so that every reader parses them to the same float.
Run from this directory: python3 make_fixtures.py (needs /usr/bin/xgboost, package `xgboost`)."""
import json, math, random, struct, subprocess

def f32(value):
    return struct.unpack('f', struct.pack('f', value))[0]

def row(rng):
    x = [0.0] * 20
    x[0] = math.log1p(rng.randint(1, 8)); x[1] = math.log1p(rng.randint(1, 15)); x[2] = math.log1p(rng.randint(1, 40))
    x[3] = math.log1p(rng.uniform(1, 3000)); x[4] = math.log1p(rng.randint(1, 100)); x[5] = math.log1p(rng.randint(0, 10))
    x[6] = math.log1p(rng.randint(1, 6)); x[7] = math.log1p(rng.randint(0, 3)); x[8] = math.log1p(rng.randint(0, 3))
    x[9] = math.log1p(rng.uniform(0.5, 2000)); x[10] = rng.uniform(-3, 10)
    for i in (11, 12, 13, 16, 17):
        x[i] = float(rng.random() < 0.3)
    x[14] = math.log1p(rng.choice([0, 0, rng.uniform(0, 20000)])); x[15] = math.log1p(rng.uniform(0, 2592000))
    x[18] = math.log1p(rng.randint(1, 200)); x[19] = rng.choice([0.0, 0.0, rng.uniform(0, 0.5)])
    z = -6 + 0.8 * x[5] + 1.2 * x[12] + 1.0 * x[13] + 0.3 * x[10] + 0.4 * x[14] + 8 * x[19] + 0.5 * x[16]
    y = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
    x = [f32(v) for v in x]
    # Some features are missing (NaN in the job's vector): the speed and the merchant fraud rate.
    missing = set(i for i in (14, 19, 10) if rng.random() < 0.15)
    return x, y, missing

def line(x, y, missing):
    return str(y) + ' ' + ' '.join('%d:%.9g' % (i, v) for i, v in enumerate(x) if i not in missing) + '\n'

def main():
    rng = random.Random(20240101)
    with open('train.libsvm', 'w') as out:
        for _ in range(3000):
            out.write(line(*row(rng)))
    with open('train.conf', 'w') as out:
        out.write('booster = gbtree\nobjective = binary:logistic\neta = 0.3\nmax_depth = 4\nnum_round = 20\n'
                  'seed = 1\nnthread = 1\ndata = "train.libsvm?format=libsvm"\nmodel_out = "model.json"\n')
    subprocess.run(['xgboost', 'train.conf'], check=True, stdout=subprocess.DEVNULL)
    model = json.load(open('model.json'))
    trees = model['learner']['gradient_booster']['model']['trees']
    with open('test.libsvm', 'w') as out:
        for _ in range(200):
            out.write(line(*row(rng)))
        # Rows whose features sit exactly on split thresholds (x == condition goes right).
        for tree in trees[:10]:
            x, y, missing = row(rng)
            for node, left in enumerate(tree['left_children']):
                if left != -1:
                    x[tree['split_indices'][node]] = f32(tree['split_conditions'][node])
                    missing.discard(tree['split_indices'][node])
            out.write(line(x, y, missing))
        # A row with every feature missing (default directions all the way).
        out.write('0\n')
    for name, margin in (('pred.txt', 0), ('margin.txt', 1)):
        with open('pred.conf', 'w') as out:
            out.write('task = pred\nmodel_in = "model.json"\ntest:data = "test.libsvm?format=libsvm"\n'
                      'name_pred = "%s"\npred_margin = %d\n' % (name, margin))
        subprocess.run(['xgboost', 'pred.conf'], check=True, stdout=subprocess.DEVNULL)
    for scratch in ('train.conf', 'pred.conf', 'train.libsvm'):
        __import__('os').remove(scratch)

main()
