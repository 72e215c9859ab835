/*
 * matrix.h - the dense feature matrix an algorithm sees.
 *
 * Row-major doubles, NaN for missing: what ml_recipe_apply() writes, so a
 * batch goes from the reader to a model without a copy.  Row i, feature j
 * is v[i * ncols + j].
 */
#ifndef MLPIPE_MATRIX_H
#define MLPIPE_MATRIX_H

#include <stddef.h>

struct ml_matrix {
	size_t nrows;
	size_t ncols;
	const double *v;
};

#endif
