/*
 * fuzz_xgboost.c - libFuzzer target for XGBoost model files (xgboost.h).
 *
 * The input is a model file: parsed as XGBoost writes JSON (NaN allowed),
 * imported (with six --features names when the size is odd, so
 * models without names get through), and an imported model exported again.
 * Every input must end in a document or an error message; sanitizers catch
 * the rest.  Seeds: the model files in tests/data/xgboost.
 *
 * tests/fuzz/run.sh builds it with every libcommon source and runs it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mlpipe/xgboost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f" };
	struct ml_err err = ML_ERR_INIT;
	struct ml_strlist features = { (char **)names, 6, 6 };
	char path[64];
	if (size == 0)
		return 0;
	/* ml_xgboost_load() reads a file: give it one in memory */
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	json_t *x = ml_xgboost_load(path, &err);
	close(fd);
	if (!x)
		return 0;
	json_t *doc = ml_xgboost_import(x, (size & 1) ? &features : NULL, "fuzz.json", &err);
	if (doc) {
		json_t *back = ml_xgboost_export(doc, &err);
		json_decref(back);
	}
	json_decref(doc);
	json_decref(x);
	return 0;
}
