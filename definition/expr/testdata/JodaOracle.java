// JodaOracle answers differential-test questions with the real Joda-Time.
// Input lines (tab separated), one answer line each:
//   F <pattern> <epochMillis> <zoneId>     -> "OK <formatted>" or "ERR"
//   A <method> <n> <epochMillis> <zoneId>  -> "OK <epochMillis>" (method: plusDays, minusMonths, ...)
import java.io.*;
import java.util.Locale;
import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.joda.time.format.DateTimeFormat;

public class JodaOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            try {
                DateTimeZone zone = DateTimeZone.forID(f[f.length - 1]);
                if (f[0].equals("F")) {
                    DateTime dt = new DateTime(Long.parseLong(f[2]), zone);
                    out.println("OK " + DateTimeFormat.forPattern(f[1]).withLocale(Locale.US).print(dt));
                } else {
                    DateTime dt = new DateTime(Long.parseLong(f[3]), zone);
                    int n = Integer.parseInt(f[2]);
                    out.println("OK " + arith(dt, f[1], n).getMillis());
                }
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                out.println("ERR");
            }
        }
        out.flush();
    }

    static DateTime arith(DateTime dt, String m, int n) {
        switch (m) {
            case "plusMinutes": return dt.plusMinutes(n);
            case "plusHours": return dt.plusHours(n);
            case "plusDays": return dt.plusDays(n);
            case "plusWeeks": return dt.plusWeeks(n);
            case "plusMonths": return dt.plusMonths(n);
            case "plusYears": return dt.plusYears(n);
            case "minusMinutes": return dt.minusMinutes(n);
            case "minusHours": return dt.minusHours(n);
            case "minusDays": return dt.minusDays(n);
            case "minusWeeks": return dt.minusWeeks(n);
            case "minusMonths": return dt.minusMonths(n);
            case "minusYears": return dt.minusYears(n);
            case "yesterday": return dt.minusDays(1);
        }
        throw new IllegalArgumentException("unknown method " + m);
    }
}
