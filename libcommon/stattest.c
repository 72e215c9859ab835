/*
 * stattest.c - Kolmogorov-Smirnov and chi-square tail probabilities (see
 * stattest.h).  The Kolmogorov distribution follows Simard and L'Ecuyer
 * (2011) with the cut-offs SciPy's stats/_ksstats.py uses, so that a p-value
 * here is SciPy's to rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/stattest.h"

#define EP128 0x1p128
#define EM128 0x1p-128

static double clip01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* log(n! / n^n) by Stirling's series, with n log n taken out first. */
static double log_nfact_div_npown(double n)
{
	static const double c[] = { -2.955065359477124183e-2, 6.4102564102564102564e-3,
				    -1.9175269175269175269e-3, 8.4175084175084175084e-4,
				    -5.952380952380952381e-4, 7.9365079365079365079e-4,
				    -2.7777777777777777778e-3, 8.3333333333333333333e-2 };
	double rn = 1.0 / n, x = rn / n, poly = 0;
	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		poly = poly * x + c[i];
	return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * poly;
}

/* Pr(D+_n >= x), the one-sided statistic: Birnbaum and Tingey's sum of positive terms. */
static double smirnov(double n, double x)
{
	if (x <= 0)
		return 1;
	if (x >= 1)
		return 0;
	double last = floor(n * (1 - x)), lgn = lgamma(n + 1), p = 0;
	for (double v = 0; v <= last; v++) {
		double evn = x + v / n, omevn = 1 - evn;
		if (omevn <= 0) {
			if (v == n)
				p += exp(lgn - lgamma(v + 1) + (v - 1) * log(evn));
			continue;
		}
		double t = lgn - lgamma(v + 1) - lgamma(n - v + 1) + (v - 1) * log(evn) + (n - v) * log(omevn);
		if (t > -745)
			p += exp(t);
	}
	return p * x;
}

static void matmul(size_t m, double *restrict out, const double *a, const double *b)
{
	memset(out, 0, m * m * sizeof *out);
	for (size_t i = 0; i < m; i++)
		for (size_t l = 0; l < m; l++) {
			double ail = a[i * m + l];
			if (ail == 0)
				continue;
			for (size_t j = 0; j < m; j++)
				out[i * m + j] += ail * b[l * m + j];
		}
}

/* Pr(D_n <= d) exactly: Durbin's matrix, as Marsaglia, Tsang and Wang compute it. NaN: no memory. */
static double kolmogorov_cdf_dmtw(double n, double d)
{
	if (d >= 1)
		return 1;
	double nd = n * d;
	if (nd <= 0.5)
		return 0;
	size_t k = (size_t)ceil(nd), m = 2 * k - 1;
	double h = (double)k - nd;
	double *H = calloc(4 * m * m + 2 * m, sizeof *H);
	if (!H)
		return NAN;
	double *P = H + m * m, *T = P + m * m, *U = T + m * m, *v = U + m * m, *w = v + m;
	double fac = 1;
	for (size_t j = 1; j <= m; j++) {
		w[j - 1] = fac;
		fac /= (double)j;
		v[j - 1] = (1 - pow(h, (double)j)) * fac;
	}
	double tt = pow(fmax(2 * h - 1, 0), (double)m) - 2 * pow(h, (double)m);
	v[m - 1] = (1 + tt) * fac;
	for (size_t i = 1; i < m; i++)
		for (size_t r = i - 1; r < m; r++)
			H[r * m + i] = w[r - (i - 1)];
	for (size_t r = 0; r < m; r++)
		H[r * m] = v[r];
	for (size_t c = 0; c < m; c++)
		H[(m - 1) * m + c] = v[m - 1 - c];
	for (size_t i = 0; i < m; i++)
		P[i * m + i] = 1;
	long expnt = 0, hexpnt = 0;
	for (unsigned long nn = (unsigned long)n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(m, T, P, H);
			memcpy(P, T, m * m * sizeof *P);
			expnt += hexpnt;
		}
		matmul(m, U, H, H);
		memcpy(H, U, m * m * sizeof *H);
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > EP128) {
			for (size_t i = 0; i < m * m; i++)
				H[i] /= EP128;
			hexpnt += 128;
		}
	}
	double p = P[(k - 1) * m + (k - 1)];
	free(H);
	for (double i = 1; i <= n; i++) {
		p = i * p / n;
		if (fabs(p) < EM128) {
			p *= EP128;
			expnt -= 128;
		}
	}
	return clip01(ldexp(p, (int)expnt));
}

/* Pr(D_n <= x) by the Pelz-Good expansion in 1/sqrt(n). */
static double kolmogorov_cdf_pelz_good(double n, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2, sqrt2pi = sqrt(2 * M_PI);
	double z = sqrt(n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
	double qlog = -pi2 / 8 / z2;
	if (qlog < log(0x1p-1022))
		return 0;
	double q = exp(qlog);
	double k1a = -z2, k1b = pi2 / 4;
	double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
	double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
	       k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
	double K[4] = { 0 };
	long maxk = (long)ceil(16 * z / M_PI);
	for (long k = maxk; k > 0; k--) {
		double m = 2.0 * (double)k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8.0 * (double)k);
		double c[4] = { 1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6 };
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	double div[4] = { z, 6 * z4, 72 * z4 * z3, 6480 * z6 * z4 };
	for (int i = 0; i < 4; i++)
		K[i] = K[i] * q * sqrt2pi / div[i];
	double q2 = exp(-pi2 / 2 / z2), k2extra = 0, k3extra = 0, sqrt3z = sqrt(3.0) * z;
	for (long k = maxk; k > 0; k--) {
		double kk = (double)k, qp = pow(q2, kk * kk), kspi = M_PI * kk;
		k2extra += kk * kk * qp;
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * kk * kk * qp;
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
	double sum = 0;
	for (int i = 0; i < 4; i++)
		sum += K[i] / pow(n, i / 2.0);
	return sum;
}

double ml_kolmogorov_sf(double n, double x)
{
	if (isnan(n) || isnan(x) || n <= 0 || n != floor(n))
		return NAN;
	if (x >= 1)
		return 0;
	if (x <= 0)
		return 1;
	double t = n * x;
	if (t <= 1) {	/* Ruben and Gambino: 1/2n <= x <= 1/n */
		if (t <= 0.5)
			return 1;
		double prob;
		if (n <= 140) {
			prob = 1;
			for (double i = 1; i <= n; i++)
				prob *= i * (1.0 / n) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_div_npown(n) + n * log(2 * t - 1));
		}
		return clip01(1 - prob);
	}
	if (t >= n - 1)
		return clip01(2 * pow(1 - x, n));
	if (x >= 0.5)
		return clip01(2 * smirnov(n, x));
	double nx2 = t * x;
	if (n <= 140) {
		if (nx2 <= 4)	/* SciPy uses Pomeranz's recursion above 0.754693; both are exact */
			return clip01(1 - kolmogorov_cdf_dmtw(n, x));
		return clip01(2 * smirnov(n, x));
	}
	if (nx2 >= 370)
		return 0;
	if (nx2 >= 2.2)
		return clip01(2 * smirnov(n, x));
	double cdf = n <= 100000 && n * pow(x, 1.5) <= 1.4 ? kolmogorov_cdf_dmtw(n, x) : kolmogorov_cdf_pelz_good(n, x);
	return clip01(1 - cdf);
}

double ml_ks_2samp_pvalue(double d, double n, double m)
{
	if (!(n > 0) || !(m > 0))
		return NAN;
	double en = nearbyint(n * m / (n + m));	/* numpy's round: half to even */
	return ml_kolmogorov_sf(en < 1 ? 1 : en, d);
}

/* ---- the exact two-sample distribution (SciPy's ks_2samp method="exact") ---- */

/* Pr(D_{n,n} >= h/n): 2 (A0 (1 - A1 (1 - A2 (...)))), each term a ratio of binomials. */
static double ks_outside_square(long n, long h)
{
	double P = 0;
	for (long k = n / h; k >= 0; k--) {
		double p1 = 1;
		for (long j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		P = p1 * (1 - P);
	}
	return 2 * P;
}

/*
 * The share of lattice paths from (0, 0) to (m, n) that leave the band
 * |x/m - y/n| < h / lcm(m, n), by Viehmann's recursion for 1 - p (Hodges'
 * inside method, one sliding column).  NaN: no memory.
 */
static double ks_outer_inside(long m, long n, long g, long h)
{
	if (m < n) {
		long t = m;
		m = n;
		n = t;
	}
	long mg = m / g, ng = n / g;
	long minj = 0, maxj = (long)ceil((double)h / (double)mg);
	if (maxj > n + 1)
		maxj = n + 1;
	long curlen = maxj - minj, lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	double *A = malloc((size_t)(lenA > 0 ? lenA : 1) * sizeof *A);
	if (!A)
		return NAN;
	for (long j = 0; j < lenA; j++)
		A[j] = j >= minj && j < maxj ? 0.0 : 1.0;
	for (long i = 1; i <= m; i++) {
		long lastminj = minj, lastlen = curlen;
		minj = (long)floor((double)(ng * i - h) / (double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = (long)ceil((double)(ng * i + h) / (double)mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			return 1.0;
		}
		double val = minj == 0 ? 0.0 : 1.0;
		for (long jj = 0; jj < maxj - minj; jj++) {
			long j = jj + minj;
			val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		for (long k = 0; lastlen > curlen && k < lastlen - curlen; k++)
			A[maxj - minj + k] = 1;
	}
	double p = A[maxj - minj - 1];
	free(A);
	return p;
}

static long gcd_long(long a, long b)
{
	while (b) {
		long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

double ml_ks_2samp_pvalue_exact(double d, double n, double m)
{
	if (!(n >= 1) || !(m >= 1) || n != floor(n) || m != floor(m) || n > 1e9 || m > 1e9 || isnan(d))
		return NAN;
	long n1 = (long)n, n2 = (long)m, g = gcd_long(n1, n2);
	double lcm = (double)(n1 / g) * (double)n2;
	if (lcm > 2147483647.0)
		return NAN;
	long h = (long)nearbyint(d * lcm);
	if (h <= 0)
		return 1;
	double p = n1 == n2 ? ks_outside_square(n1, h) : ks_outer_inside(n1, n2, g, h);
	return p >= 0 && p <= 1 ? p : NAN;
}

double ml_ks_2samp_pvalue_auto(double d, double n, double m, int *exact)
{
	double p = NAN;
	if (n <= ML_KS_MAX_EXACT && m <= ML_KS_MAX_EXACT)
		p = ml_ks_2samp_pvalue_exact(d, n, m);
	*exact = !isnan(p);
	return *exact ? p : ml_ks_2samp_pvalue(d, n, m);
}

/* Q(a, x), the regularised upper incomplete gamma function (series or continued fraction). */
static double gamma_q(double a, double x)
{
	if (x <= 0)
		return 1;
	double lg = a * log(x) - x - lgamma(a);
	if (x < a + 1) {
		double ap = a, del = 1 / a, sum = del;
		for (int i = 0; i < 100000; i++) {
			del *= x / ++ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-17)
				break;
		}
		return clip01(1 - sum * exp(lg));
	}
	double b = x + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d;
	for (int i = 1; i < 100000; i++) {
		double an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = b + an / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-17)
			break;
	}
	return clip01(exp(lg) * h);
}

double ml_chi2_sf(double x, double dof)
{
	if (isnan(x) || isnan(dof) || dof <= 0)
		return NAN;
	return gamma_q(dof / 2, x / 2);
}
