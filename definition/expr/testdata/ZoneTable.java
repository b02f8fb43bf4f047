// Generates zonenames.go entries: javac -cp /usr/share/java/joda-time.jar ZoneTable.java && java -Djava.locale.providers=COMPAT -cp /usr/share/java/joda-time.jar:. ZoneTable UTC America/New_York ...
import org.joda.time.*;
import java.util.*;
public class ZoneTable {
  public static void main(String[] a) {
    for (String id : a) {
      DateTimeZone z = DateTimeZone.forID(id);
      String ss=null, sl=null, ds=null, dl=null;
      // Prefer names from 2021, but look back to 1970 for zones whose DST
      // ended since (America/Sao_Paulo, Asia/Hong_Kong) so their summer names are known.
      for (int y = 1970; y <= 2021; y++) for (int m = 1; m <= 12; m++) {
        long t = new DateTime(y,m,15,12,0,DateTimeZone.UTC).getMillis();
        if (z.isStandardOffset(t)) { ss = z.getShortName(t, Locale.US); sl = z.getName(t, Locale.US); }
        else { ds = z.getShortName(t, Locale.US); dl = z.getName(t, Locale.US); }
      }
      if (ds == null) { ds = ss; dl = sl; }
      System.out.printf("\t%s: {%s, %s, %s, %s, %s},%n", q(id), q(z.getID()), q(ss), q(sl), q(ds), q(dl));
    }
  }
  static String q(String s) { return "\"" + s + "\""; }
}
