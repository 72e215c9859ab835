/*
 * stattest.h - the tail probabilities of the tests ml-drift runs, written to
 * agree with SciPy (1.10) to near double precision.
 *
 *   ml_kolmogorov_sf(n, d)   Pr(D_n >= d) for the two-sided one-sample
 *                            Kolmogorov statistic of n values: scipy's
 *                            stats.kstwo.sf(d, n), computed as its _kolmogn
 *                            does (Simard and L'Ecuyer's choice of methods:
 *                            Durbin's matrix (Marsaglia-Tsang-Wang), the
 *                            Pelz-Good expansion, twice Smirnov's one-sided
 *                            sum), so the results agree to ~1e-12.
 *   ml_ks_2samp_pvalue(d, n, m)
 *                            the two-sided two-sample KS p-value by
 *                            scipy.stats.ks_2samp(method="asymp"):
 *                            kstwo.sf(d, round(n m / (n + m))).  (SciPy's
 *                            default method="auto" is the same when either
 *                            sample has more than 10000 values; below that
 *                            it counts lattice paths exactly.)
 *   ml_chi2_sf(x, dof)       Pr(X >= x) for chi-square with dof degrees of
 *                            freedom: scipy.stats.chi2.sf, the regularised
 *                            upper incomplete gamma function Q(dof/2, x/2).
 *
 * n and m are counts (they may be large: doubles).  NaN in, NaN out.
 */
#ifndef MLPIPE_STATTEST_H
#define MLPIPE_STATTEST_H

double ml_kolmogorov_sf(double n, double d);
double ml_ks_2samp_pvalue(double d, double n, double m);
double ml_chi2_sf(double x, double dof);

#endif
