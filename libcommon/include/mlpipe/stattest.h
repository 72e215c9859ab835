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
 *   ml_ks_2samp_pvalue_exact(d, n, m)
 *                            scipy.stats.ks_2samp(method="exact"): d rounded
 *                            to the lattice h / lcm(n, m), then the share of
 *                            lattice paths leaving the band (Hodges' inside
 *                            method with Viehmann's recursion for 1 - p; for
 *                            n == m the closed form).  NaN when lcm(n, m)
 *                            exceeds 2^31 - 1 (SciPy switches to "asymp").
 *   ml_ks_2samp_pvalue_auto(d, n, m, &exact)
 *                            SciPy's default method="auto": exact when
 *                            neither sample has more than 10000 values,
 *                            else asymp; *exact says which was used.
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
#define ML_KS_MAX_EXACT 10000	/* SciPy's MAX_AUTO_N */
double ml_ks_2samp_pvalue_exact(double d, double n, double m);
double ml_ks_2samp_pvalue_auto(double d, double n, double m, int *exact);
double ml_chi2_sf(double x, double dof);

#endif
